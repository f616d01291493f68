DROP INDEX members_team_id_idx;
ALTER TABLE members DROP CONSTRAINT members_team_id_fkey;
