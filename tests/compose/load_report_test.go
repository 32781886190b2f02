package compose

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestOutagesSplitAtGaps(t *testing.T) {
	s := time.Second
	got := outages([]time.Duration{10 * s, 10*s + 500*time.Millisecond, 11 * s, 20 * s, 21*s + 900*time.Millisecond})
	assert.Equal(t, []outage{{from: 10 * s, to: 11 * s, failed: 3}, {from: 20 * s, to: 21*s + 900*time.Millisecond, failed: 2}}, got)
	assert.Empty(t, outages(nil))
}

func TestProxyErrorsCountsEntriesAboveInfo(t *testing.T) {
	start := time.Unix(1000, 0)
	entry := func(at float64, level, msg string) string {
		return fmt.Sprintf(`{"level":%q,"ts":%v,"logger":"http.log.error","msg":%q,"error":"boom"}`+"\n", level, at, msg)
	}
	log := "not json\n" + entry(1001, "error", "dial tcp: i/o timeout") + entry(1002, "info", "serving") +
		entry(1003.5, "error", "dial tcp: i/o timeout") + entry(1004, "warn", "slow")
	assert.Equal(t, "2x from 1s to 3.5s: error http.log.error: dial tcp: i/o timeout: boom\n"+
		"1x from 4s to 4s: warn http.log.error: slow: boom\n", proxyErrors(log, start))
	assert.Equal(t, "(none)", proxyErrors(entry(1001, "info", "serving"), start))
}
