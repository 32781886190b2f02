package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestServesAndPrintsWhereToReachIt(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-token", "tok", "-boot-delay", "0s"}, pw)
		pw.Close()
	}()

	vars := map[string]string{}
	lines := bufio.NewScanner(pr)
	for len(vars) < 2 && lines.Scan() {
		if k, v, ok := strings.Cut(lines.Text(), "="); ok {
			vars[k] = v
		}
	}
	if vars["FLY_API_TOKEN"] != "FlyV1 tok" || !strings.HasSuffix(vars["FLY_API_URL"], "/v1") {
		t.Fatalf("printed %v", vars)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }() // keep the fake's log flowing

	req, _ := http.NewRequest(http.MethodGet, vars["FLY_API_URL"]+"/apps?org_slug=personal", nil)
	req.Header.Set("Authorization", vars["FLY_API_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("list apps: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestRejectsBadFlags(t *testing.T) {
	for args, want := range map[string]string{
		"-boot-delay -1s":        "-boot-delay -1s is negative",
		"-transient-rate 3":      "transient_rate 3 is out of range",
		"-transient-status 404":  "transient_status 404",
		"-fault-operations Nope": `"Nope"`,
		"-bogus":                 "flag provided but not defined: -bogus",
		"extra":                  `unexpected argument "extra"`,
	} {
		err := run(t.Context(), strings.Fields(args), io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", args, err, want)
		}
	}
}
