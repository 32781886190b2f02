// Package pgtest starts throwaway PostgreSQL servers for tests and benchmarks.
//
// A Server is a real postgres process on a free 127.0.0.1 port with its data in a
// temporary directory; both go away when the test (or TestMain) ends. When the
// test binary runs as root the server runs as the OS user "postgres", because
// initdb and postgres refuse to run as root.
//
// One server per package is the usual shape: start it once and hand each test
// its own database with NewDatabase.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/emothe/emothe/internal/testenv"
)

// binGlob is where Debian's postgresql-NN packages put the server binaries.
const binGlob = "/usr/lib/postgresql/*/bin"

const (
	superuser    = "postgres"
	startTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
)

// Server is a running throwaway PostgreSQL server.
type Server struct {
	dir      string // temp dir holding data/, the unix socket and the log
	port     int
	password string
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the postgres process has exited
	stopOnce sync.Once
	stopErr  error
	dbSeq    atomic.Int64
}

// Start starts a server for tb and stops it, removing its files, in tb.Cleanup.
// It fails tb if the server cannot start.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := StartServer()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// StartServer starts a server outside any test, for TestMain; the caller must
// call Stop.
func StartServer() (*Server, error) {
	bin, err := findBinDir(binGlob)
	if err != nil {
		return nil, err
	}
	runAs, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	s := &Server{dir: dir}
	if err := s.init(bin, runAs); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	// Another process can grab the port between picking and binding it, so a
	// failed start is retried on a new port a few times.
	for attempt := 1; ; attempt++ {
		err = s.start(bin, runAs)
		if err == nil {
			return s, nil
		}
		if attempt == 3 || !strings.Contains(s.logTail(), "could not bind") {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
	}
}

// DSN is the URL of the server's maintenance database "postgres".
func (s *Server) DSN() string { return s.dsn("postgres") }

// NewDatabase creates an empty database for tb and returns its URL. The
// database lives as long as the server.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("test_%d", s.dbSeq.Add(1))
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		tb.Fatalf("pgtest: connect to create database %s: %v", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return s.dsn(name)
}

// Stop shuts the server down and removes its files. It is safe to call more
// than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		// SIGINT is postgres' "fast" shutdown: no waiting for clients.
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if err := os.RemoveAll(s.dir); err != nil {
			s.stopErr = fmt.Errorf("remove %s: %w", s.dir, err)
		}
	})
	return s.stopErr
}

func (s *Server) dsn(db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.password, s.port, db)
}

// init creates the cluster. TCP logins need the password, so code under test
// sees a realistic DSN (and tests can check it never leaks); the unix socket
// stays trust-only for the server's own use.
func (s *Server) init(bin string, runAs *syscall.Credential) error {
	var pw [16]byte
	_, _ = rand.Read(pw[:])
	s.password = hex.EncodeToString(pw[:])
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	if runAs != nil {
		for _, p := range []string{s.dir, pwfile} {
			if err := os.Chown(p, int(runAs.Uid), int(runAs.Gid)); err != nil {
				return fmt.Errorf("hand %s to user postgres: %w", p, err)
			}
		}
	}
	cmd := exec.Command(filepath.Join(bin, "initdb"),
		"-D", filepath.Join(s.dir, "data"),
		"-U", superuser,
		"--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C.UTF-8", // UTF-8 so lower()/ILIKE fold accented letters
		"--no-sync", "--no-instructions")
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: runAs}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// start runs postgres on a free port and waits until it accepts logins.
func (s *Server) start(bin string, runAs *syscall.Credential) error {
	port, err := testenv.FreePort()
	if err != nil {
		return err
	}
	s.port = port
	logf, err := os.Create(s.logPath())
	if err != nil {
		return fmt.Errorf("create server log: %w", err)
	}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(s.dir, "data"),
		"-p", fmt.Sprint(port),
		"-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		// Throwaway data: durability only costs time.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Pdeathsig kills the server if the test binary dies without cleaning up.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: runAs, Pdeathsig: syscall.SIGKILL}
	// Once started, postgres writes through its own copy of the descriptor.
	if err := errors.Join(s.cmd.Start(), logf.Close()); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.exited = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("%w\nserver log:\n%s", err, s.logTail())
	}
	return nil
}

func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := pgx.Connect(ctx, s.DSN())
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.exited:
			return errors.New("postgres exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("postgres not accepting connections after %s: %w", startTimeout, err)
		case <-tick.C:
		}
	}
}

func (s *Server) logPath() string { return filepath.Join(s.dir, "postgres.log") }

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath())
	const tail = 4 << 10
	if len(b) > tail {
		b = b[len(b)-tail:]
	}
	return string(b)
}
