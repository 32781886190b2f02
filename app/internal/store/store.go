// Package store reads the play catalogue from Postgres.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/emothe/emothe/app/internal/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned for a play id that does not exist.
var ErrNotFound = errors.New("play not found")

// ErrUnreachable marks readiness failures caused by the database connection
// rather than the schema. Its details (host, user) stay in logs.
var ErrUnreachable = errors.New("database unreachable")

// Play is one catalogue entry.
type Play struct {
	ID            int64  `json:"id"`
	Title         string `json:"title"`
	OriginalTitle string `json:"original_title"`
	Author        string `json:"author"`
	Year          int    `json:"year"`
	Genre         string `json:"genre"`
	Language      string `json:"language"`
}

// Filter selects a page of plays. Author and Title are case-insensitive
// substrings; Title matches the English or the original title. Empty means any.
type Filter struct {
	Author, Title string
	Limit, Offset int
}

// Store reads plays through a pgx pool it does not own.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store over pool; the caller closes the pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const columns = "id, title, original_title, author, year, genre, language"

// strpos rather than ILIKE: user input needs no escaping of % and _.
const where = `WHERE ($1::text = '' OR strpos(lower(author), lower($1)) > 0)
  AND ($2::text = '' OR strpos(lower(title), lower($2)) > 0 OR strpos(lower(original_title), lower($2)) > 0)`

// List returns one page of the plays matching f, ordered by year, and how many
// match in all.
func (s *Store) List(ctx context.Context, f Filter) ([]Play, int, error) {
	// One round trip for the page and the total.
	b := &pgx.Batch{}
	b.Queue("SELECT "+columns+" FROM plays "+where+" ORDER BY year, id LIMIT $3 OFFSET $4",
		f.Author, f.Title, f.Limit, f.Offset)
	b.Queue("SELECT count(*) FROM plays "+where, f.Author, f.Title)
	res := s.pool.SendBatch(ctx, b)
	defer res.Close()

	rows, err := res.Query()
	if err != nil {
		return nil, 0, fmt.Errorf("list plays: %w", err)
	}
	plays, err := pgx.CollectRows(rows, scanPlay)
	if err != nil {
		return nil, 0, fmt.Errorf("list plays: %w", err)
	}
	var total int
	if err := res.QueryRow().Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count plays: %w", err)
	}
	return plays, total, nil
}

// Get returns the play with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Play, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+columns+" FROM plays WHERE id = $1", id)
	if err != nil {
		return Play{}, fmt.Errorf("get play %d: %w", id, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPlay)
	if errors.Is(err, pgx.ErrNoRows) {
		return Play{}, ErrNotFound
	}
	if err != nil {
		return Play{}, fmt.Errorf("get play %d: %w", id, err)
	}
	return p, nil
}

func scanPlay(row pgx.CollectableRow) (Play, error) {
	var p Play
	err := row.Scan(&p.ID, &p.Title, &p.OriginalTitle, &p.Author, &p.Year, &p.Genre, &p.Language)
	return p, err
}

// Ready reports why this build cannot serve yet: the database is unreachable
// (wrapping ErrUnreachable) or its schema is older than the latest embedded
// migration. nil means ready.
//
// A newer schema counts as ready: the release command of the next deploy
// migrates before its machines start, and the old machines must keep serving
// until they are replaced (migrations are written to be backward compatible).
func (s *Store) Ready(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	have, err := migrations.Version(ctx, s.pool)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if want := migrations.Latest(); have < want {
		return fmt.Errorf("schema is at version %d, this build needs %d: run `emothe migrate`", have, want)
	}
	return nil
}
