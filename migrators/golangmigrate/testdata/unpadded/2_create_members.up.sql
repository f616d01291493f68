CREATE TABLE members (
    id      integer PRIMARY KEY,
    email   text NOT NULL UNIQUE,
    team_id integer
);
