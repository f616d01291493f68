CREATE EXTENSION postgis;

CREATE TABLE places (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    geom geometry(Point, 4326) NOT NULL
);
CREATE INDEX places_geom ON places USING gist (geom);
