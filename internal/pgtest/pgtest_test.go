package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestServerDatabasesAreSeparateAndStopRemovesFiles(t *testing.T) {
	s, err := StartServer()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	a, b := s.NewDatabase(t), s.NewDatabase(t)
	if a == b {
		t.Fatalf("NewDatabase returned the same DSN twice: %s", a)
	}
	if !strings.HasPrefix(a, "postgres://postgres:") || !strings.Contains(a, "@127.0.0.1:") {
		t.Fatalf("DSN %q is not a password-carrying 127.0.0.1 URL", a)
	}
	mustExec(t, a, "CREATE TABLE only_in_a (id int)")
	conn, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if n != 0 {
		t.Fatal("a table created in one database is visible in another")
	}

	// Case folding of accented letters needs a UTF-8 locale, which the
	// catalogue's filters rely on.
	var folded string
	conn, err = pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT lower('MOLIÈRE')").Scan(&folded); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if folded != "molière" {
		t.Fatalf("lower('MOLIÈRE') = %q, want molière", folded)
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("server dir %s still exists after Stop (stat err %v)", s.dir, err)
	}
	if _, err := pgx.Connect(ctx, a); err == nil {
		t.Fatal("server still accepts connections after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func mustExec(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func TestFindBinDirPicksNewestNumerically(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "16", "broken"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		names := []string{"initdb", "postgres"}
		if v == "broken" {
			names = names[:1] // no postgres binary: not a usable install
		}
		for _, name := range names {
			if err := os.WriteFile(filepath.Join(bin, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := findBinDir(filepath.Join(root, "*", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "16", "bin"); got != want {
		t.Fatalf("findBinDir = %s, want %s", got, want)
	}
}

func TestFindBinDirMissingSaysHowToFix(t *testing.T) {
	_, err := findBinDir(filepath.Join(t.TempDir(), "*", "bin"))
	if err == nil {
		t.Fatal("no error for a pattern matching nothing")
	}
	for _, want := range []string{"PostgreSQL server binaries not found", "make tools"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
