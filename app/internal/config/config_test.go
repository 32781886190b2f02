package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const (
	goodURL    = "postgres://emothe:hunter2pw@db.internal:5432/emothe?sslmode=disable"
	goodSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func env(vars map[string]string) Getenv {
	return func(k string) string { return vars[k] }
}

func TestLoadServeDefaults(t *testing.T) {
	c, err := LoadServe(env(map[string]string{"DATABASE_URL": goodURL, "SECRET_KEY_BASE": goodSecret}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.AppHost != "localhost:8080" || c.LogLevel != slog.LevelInfo || c.ShutdownTimeout != 25*time.Second {
		t.Fatalf("defaults = port %d host %q level %v drain %v", c.Port, c.AppHost, c.LogLevel, c.ShutdownTimeout)
	}
	if c.DatabaseURL.Value() != goodURL {
		t.Fatalf("DatabaseURL.Value() = %q", c.DatabaseURL.Value())
	}
}

func TestLoadServeReadsEverySetting(t *testing.T) {
	c, err := LoadServe(env(map[string]string{
		"DATABASE_URL": goodURL, "SECRET_KEY_BASE": goodSecret, "APP_HOST": "Emothe.fly.dev",
		"PORT": "9000", "LOG_LEVEL": "DEBUG", "SHUTDOWN_TIMEOUT": "1m30s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9000 || c.AppHost != "emothe.fly.dev" || c.LogLevel != slog.LevelDebug || c.ShutdownTimeout != 90*time.Second {
		t.Fatalf("got port %d host %q level %v drain %v", c.Port, c.AppHost, c.LogLevel, c.ShutdownTimeout)
	}
}

func TestBadValuesNameVariableValueAndFix(t *testing.T) {
	base := map[string]string{"DATABASE_URL": goodURL, "SECRET_KEY_BASE": goodSecret}
	tests := []struct {
		name string
		set  map[string]string
		want []string // all must appear in the error
	}{
		{"missing database url", map[string]string{"DATABASE_URL": ""}, []string{"DATABASE_URL is not set", "postgres://"}},
		{"wrong scheme", map[string]string{"DATABASE_URL": "mysql://root:hunter2pw@db/x"}, []string{"DATABASE_URL", `scheme "mysql"`, "postgres://"}},
		{"unparsable url", map[string]string{"DATABASE_URL": "postgres://u:hunter2pw@db:port/x"}, []string{"DATABASE_URL is not a valid URL", "percent-encoding"}},
		{"driver rejects sslmode", map[string]string{"DATABASE_URL": "postgres://u:hunter2pw@db/x?sslmode=sometimes"}, []string{"DATABASE_URL is rejected by the Postgres driver", "sslmode"}},
		{"missing secret", map[string]string{"SECRET_KEY_BASE": ""}, []string{"SECRET_KEY_BASE is not set", "openssl rand -hex 32"}},
		{"short secret", map[string]string{"SECRET_KEY_BASE": "hunter2pw-abc"}, []string{"SECRET_KEY_BASE is 13 characters; it needs at least 64", "openssl rand -hex 32"}},
		{"port not a number", map[string]string{"PORT": "http"}, []string{`PORT is "http"`, "1 to 65535"}},
		{"port zero", map[string]string{"PORT": "0"}, []string{`PORT is "0"`, "1 to 65535"}},
		{"port too big", map[string]string{"PORT": "70000"}, []string{`PORT is "70000"`}},
		{"log level", map[string]string{"LOG_LEVEL": "verbose"}, []string{`LOG_LEVEL is "verbose"`, "debug, info, warn, error"}},
		{"shutdown no unit", map[string]string{"SHUTDOWN_TIMEOUT": "25"}, []string{`SHUTDOWN_TIMEOUT is "25"`, "25s"}},
		{"shutdown negative", map[string]string{"SHUTDOWN_TIMEOUT": "-5s"}, []string{`SHUTDOWN_TIMEOUT is "-5s"`}},
		{"app host with scheme", map[string]string{"APP_HOST": "https://emothe.fly.dev"}, []string{`APP_HOST is "https://emothe.fly.dev"`, "no scheme or path"}},
		{"app host with path", map[string]string{"APP_HOST": "emothe.fly.dev/plays"}, []string{`APP_HOST is "emothe.fly.dev/plays"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			for k, v := range base {
				vars[k] = v
			}
			for k, v := range tt.set {
				vars[k] = v
			}
			_, err := LoadServe(env(vars))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			// Secrets' values never appear, whatever is wrong with them.
			if strings.Contains(msg, "hunter2pw") {
				t.Errorf("error leaks a secret: %q", msg)
			}
		})
	}
}

func TestAllProblemsReportedTogether(t *testing.T) {
	_, err := LoadServe(env(map[string]string{"PORT": "x", "LOG_LEVEL": "loud"}))
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %v is %T, want *Error", err, err)
	}
	if len(e.Problems) != 4 { // DATABASE_URL, SECRET_KEY_BASE, PORT, LOG_LEVEL
		t.Fatalf("got %d problems, want 4:\n%v", len(e.Problems), err)
	}
}

func TestSubcommandsNeedOnlyTheirVariables(t *testing.T) {
	if _, err := LoadMigrate(env(map[string]string{"DATABASE_URL": goodURL, "PORT": "bad"})); err != nil {
		t.Errorf("migrate with DATABASE_URL only: %v", err)
	}
	if _, err := LoadMigrate(env(nil)); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("migrate without DATABASE_URL: %v", err)
	}
	c, err := LoadHealthcheck(env(map[string]string{"PORT": "9000"}))
	if err != nil || c.Port != 9000 {
		t.Errorf("healthcheck with PORT only: %+v, %v", c, err)
	}
	if _, err := LoadHealthcheck(env(map[string]string{"PORT": "-1"})); err == nil {
		t.Error("healthcheck accepted PORT=-1")
	}
}

// Behind a pooler, migrations take the direct URL; a bad one is reported
// under its own name, without its value.
func TestMigratePrefersDirectURL(t *testing.T) {
	direct := "postgres://emothe:hunter2pw@direct.internal:5432/emothe"
	c, err := LoadMigrate(env(map[string]string{"DATABASE_URL": goodURL, "DATABASE_DIRECT_URL": direct}))
	if err != nil || string(c.DatabaseURL) != direct {
		t.Errorf("migrate with both URLs uses %q (%v), want the direct one", string(c.DatabaseURL), err)
	}
	_, err = LoadMigrate(env(map[string]string{"DATABASE_URL": goodURL, "DATABASE_DIRECT_URL": "mysql://u:hunter2pw@h/db"}))
	if err == nil || !strings.Contains(err.Error(), "DATABASE_DIRECT_URL has scheme") || strings.Contains(err.Error(), "hunter2pw") {
		t.Errorf("bad DATABASE_DIRECT_URL: %v", err)
	}
	if c, err := LoadServe(env(map[string]string{"DATABASE_URL": goodURL, "DATABASE_DIRECT_URL": direct, "SECRET_KEY_BASE": goodSecret})); err != nil || string(c.DatabaseURL) != goodURL {
		t.Errorf("serve must keep DATABASE_URL, got %q (%v)", string(c.DatabaseURL), err)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2pw")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v %+v", s, s, s, s), buf.String()} {
		if strings.Contains(out, "hunter2pw") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if s.Value() != "hunter2pw" {
		t.Error("Value does not return the secret")
	}
}
