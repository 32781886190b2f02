package compose

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxInFlight bounds the load's concurrent requests; a request that would
// exceed it counts as failed, since the service fell that far behind.
const maxInFlight = 200

// load sends GET url at a steady rate until finish, counting the requests
// that did not get a 200 with plays in it.
type load struct {
	url          string
	client       *http.Client
	stop         chan struct{}
	done         sync.WaitGroup
	sent, failed atomic.Int64
	inFlight     atomic.Int64
	mu           sync.Mutex
	firstFailure string
}

func startLoad(url string, perSecond int) *load {
	l := &load{
		url:    url,
		client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: maxInFlight}},
		stop:   make(chan struct{}),
	}
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
				l.sent.Add(1)
				if l.inFlight.Add(1) > maxInFlight {
					l.inFlight.Add(-1)
					l.fail(fmt.Sprintf("more than %d requests in flight", maxInFlight))
					continue
				}
				l.done.Add(1)
				go func() {
					defer l.done.Done()
					defer l.inFlight.Add(-1)
					if err := l.get(); err != nil {
						l.fail(err.Error())
					}
				}()
			}
		}
	}()
	return l
}

func (l *load) get() error {
	resp, err := l.client.Get(l.url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read the body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %.200s", resp.Status, body)
	}
	if n, err := countPlays(body); err != nil || n == 0 {
		return fmt.Errorf("%s with %d plays (%v): %.200s", resp.Status, n, err, body)
	}
	return nil
}

func (l *load) fail(why string) {
	l.failed.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.firstFailure == "" {
		l.firstFailure = why
	}
}

// finish stops sending, waits for the requests in flight and returns the
// counts and the first failure's reason.
func (l *load) finish() (sent, failed int64, first string) {
	close(l.stop)
	l.done.Wait()
	l.client.CloseIdleConnections()
	return l.sent.Load(), l.failed.Load(), l.firstFailure
}
