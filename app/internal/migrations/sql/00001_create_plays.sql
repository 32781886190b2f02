-- The catalogue: one row per play.
-- +goose Up
CREATE TABLE plays (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title          text NOT NULL CHECK (title <> ''),          -- English title
    original_title text NOT NULL CHECK (original_title <> ''), -- title in the language it was written in
    author         text NOT NULL CHECK (author <> ''),
    -- Year of first performance or publication, as catalogues usually date plays.
    year           integer NOT NULL CHECK (year BETWEEN 1400 AND 1800),
    genre          text NOT NULL,
    language       text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (original_title, author)
);

-- Listings are ordered by date.
CREATE INDEX plays_year_id_idx ON plays (year, id);

-- +goose Down
DROP TABLE plays;
