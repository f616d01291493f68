-- Version 10 comes after 2 for golang-migrate, though "10_" sorts before
-- "2_": it needs the members table that 2 creates.
ALTER TABLE members
    ADD CONSTRAINT members_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id);
CREATE INDEX members_team_id_idx ON members (team_id);
