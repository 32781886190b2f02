package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/emothe/emothe/app/internal/config"
	"github.com/emothe/emothe/contract"
)

// healthcheckTimeout stays under the Dockerfile's HEALTHCHECK --timeout=3s.
const healthcheckTimeout = 2 * time.Second

// healthcheck asks the local server's /healthz; 0 on 200, else 1.
func healthcheck(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	cfg, err := config.LoadHealthcheck(getenv)
	if err != nil {
		return configError(stderr, "healthcheck", err)
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d%s", cfg.Port, contract.HealthPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "emothe healthcheck: %v\n", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "emothe healthcheck: %v\n", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "emothe healthcheck: GET %s: %s\n", url, resp.Status)
		return 1
	}
	return 0
}
