package image

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/emothe/emothe/internal/dockertest"
	"github.com/emothe/emothe/internal/pgtest"
	"github.com/emothe/emothe/internal/testenv"
)

// service is one database migrated by the image, ready for containers of the
// image to serve from on the host network.
type service struct {
	image string
	db    string // DATABASE_URL
}

func migrated(tb testing.TB) service {
	tb.Helper()
	s := service{image: image(tb), db: pgtest.Start(tb).NewDatabase(tb)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := dockertest.EnvFile(tb, map[string]string{"DATABASE_URL": s.db})
	_, err := dockertest.Docker(ctx, "run", "--rm", "--network", "host", "--env-file", env, s.image, "migrate")
	if err != nil {
		tb.Fatalf("migrate in the image: %v", err)
	}
	return s
}

// serve runs the image's default command (serve) on a free port and returns
// its base URL.
func (s service) serve(tb testing.TB, extraRunArgs ...string) (*dockertest.Container, string) {
	tb.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	key := make([]byte, 48)
	rand.Read(key) // never fails (crypto/rand, Go 1.24+)
	env := dockertest.EnvFile(tb, map[string]string{
		"DATABASE_URL":    s.db,
		"SECRET_KEY_BASE": hex.EncodeToString(key),
		"PORT":            strconv.Itoa(port),
	})
	args := append([]string{"--network", "host", "--env-file", env}, extraRunArgs...)
	return dockertest.Run(tb, append(args, s.image)...), fmt.Sprintf("http://127.0.0.1:%d", port)
}

func TestMigrateThenServe(t *testing.T) {
	svc := migrated(t)
	// The HEALTHCHECK's own command runs, only more often than the image's
	// 10s interval, so that the test need not wait for it.
	c, base := svc.serve(t, "--health-interval", "1s")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if err := dockertest.WaitHTTP(ctx, base+"/readyz", http.StatusOK); err != nil {
		t.Fatal(err)
	}
	titles := playTitles(t, base)
	for _, want := range []string{"Hamlet", "Fuenteovejuna", "Life Is a Dream"} {
		if !slices.Contains(titles, want) {
			t.Errorf("GET /api/plays: %q missing from %q; want the seeded catalogue", want, titles)
		}
	}

	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
}

// playTitles is the titles on the first page of GET /api/plays.
func playTitles(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/api/plays")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/plays: %s", resp.Status)
	}
	var page struct {
		Plays []struct {
			Title string `json:"title"`
		} `json:"plays"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatalf("GET /api/plays: decode: %v", err)
	}
	titles := make([]string, len(page.Plays))
	for i, p := range page.Plays {
		titles[i] = p.Title
	}
	return titles
}
