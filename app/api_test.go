package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

type playResp struct {
	ID            int64  `json:"id"`
	Title         string `json:"title"`
	OriginalTitle string `json:"original_title"`
	Author        string `json:"author"`
	Year          int    `json:"year"`
	URL           string `json:"url"`
}

type pageResp struct {
	Plays  []playResp `json:"plays"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
	Links  struct {
		Self, Next, Prev string
	} `json:"links"`
}

func TestAPIPlays(t *testing.T) {
	a := startApp(t, migrated(t), nil)

	t.Run("paging", func(t *testing.T) {
		var all pageResp
		if code := getJSON(t, a.url+"/api/plays", &all); code != 200 {
			t.Fatalf("status %d", code)
		}
		if all.Total != 11 || len(all.Plays) != 11 || all.Limit != 20 || all.Offset != 0 {
			t.Fatalf("default page: total %d, %d plays, limit %d, offset %d; want 11, 11, 20, 0", all.Total, len(all.Plays), all.Limit, all.Offset)
		}
		for i := 1; i < len(all.Plays); i++ {
			if all.Plays[i-1].Year > all.Plays[i].Year {
				t.Fatalf("plays not ordered by year: %d before %d", all.Plays[i-1].Year, all.Plays[i].Year)
			}
		}
		if all.Links.Next != "" || all.Links.Prev != "" {
			t.Errorf("single page has next %q / prev %q", all.Links.Next, all.Links.Prev)
		}

		// Walk the catalogue three at a time through the next links.
		var seen []playResp
		next := a.url + "/api/plays?limit=3"
		for pages := 0; next != ""; pages++ {
			if pages > 4 {
				t.Fatal("next links never end")
			}
			var p pageResp
			if code := getJSON(t, next, &p); code != 200 {
				t.Fatalf("GET %s: %d", next, code)
			}
			if p.Total != 11 || len(p.Plays) > 3 {
				t.Fatalf("GET %s: total %d with %d plays", next, p.Total, len(p.Plays))
			}
			seen = append(seen, p.Plays...)
			next = localURL(t, a, p.Links.Next)
		}
		if len(seen) != 11 {
			t.Fatalf("paging saw %d plays, want 11", len(seen))
		}
		for i := range seen {
			if seen[i].ID != all.Plays[i].ID {
				t.Fatalf("page walk order differs at %d: %d vs %d", i, seen[i].ID, all.Plays[i].ID)
			}
		}

		var last pageResp
		getJSON(t, a.url+"/api/plays?limit=3&offset=9", &last)
		if len(last.Plays) != 2 || last.Links.Next != "" || !strings.Contains(last.Links.Prev, "offset=6") {
			t.Fatalf("last page: %d plays, next %q, prev %q", len(last.Plays), last.Links.Next, last.Links.Prev)
		}
		var past pageResp
		getJSON(t, a.url+"/api/plays?offset=50", &past)
		if len(past.Plays) != 0 || past.Total != 11 {
			t.Fatalf("past the end: %d plays, total %d; want 0 and 11", len(past.Plays), past.Total)
		}
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			query string
			want  []string // original titles, in year order
		}{
			{"author=lope", []string{"El perro del hortelano", "Fuenteovejuna"}},
			{"author=MOLIÈRE", []string{"Le Tartuffe ou l'Imposteur"}}, // case folding beyond ASCII
			{"title=SUEÑO", []string{"La vida es sueño"}},              // original title
			{"title=dream", []string{"La vida es sueño"}},              // English title
			{"title=%25", nil}, // % is literal, not a wildcard
			{"title=vida", []string{"El burlador de Sevilla y convidado de piedra", "La vida es sueño"}},
			{"author=de&title=the", []string{"El perro del hortelano", "El burlador de Sevilla y convidado de piedra"}},
			{"author=nobody", nil},
		}
		for _, tt := range tests {
			var p pageResp
			if code := getJSON(t, a.url+"/api/plays?"+tt.query, &p); code != 200 {
				t.Fatalf("%s: status %d", tt.query, code)
			}
			var got []string
			for _, pl := range p.Plays {
				got = append(got, pl.OriginalTitle)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || p.Total != len(tt.want) {
				t.Errorf("%s: got %q (total %d), want %q", tt.query, got, p.Total, tt.want)
			}
		}
	})

	t.Run("bad paging", func(t *testing.T) {
		for _, q := range []string{"limit=0", "limit=101", "limit=ten", "offset=-1", "offset=1.5"} {
			var body struct{ Error string }
			if code := getJSON(t, a.url+"/api/plays?"+q, &body); code != 400 {
				t.Errorf("%s: status %d, want 400", q, code)
			}
			name, _, _ := strings.Cut(q, "=")
			if !strings.HasPrefix(body.Error, name+" is ") {
				t.Errorf("%s: error %q does not name the parameter", q, body.Error)
			}
		}
	})

	t.Run("one play", func(t *testing.T) {
		var page pageResp
		getJSON(t, a.url+"/api/plays?title=hamlet", &page)
		if len(page.Plays) != 1 {
			t.Fatalf("title=hamlet found %d plays", len(page.Plays))
		}
		hamlet := page.Plays[0]
		var got playResp
		if code := getJSON(t, localURL(t, a, hamlet.URL), &got); code != 200 {
			t.Fatalf("GET %s: %d", hamlet.URL, code)
		}
		if got != hamlet || got.Author != "William Shakespeare" || got.Year != 1603 {
			t.Fatalf("GET %s = %+v, want %+v", hamlet.URL, got, hamlet)
		}

		var body struct{ Error string }
		if code := getJSON(t, a.url+"/api/plays/999999", &body); code != 404 || body.Error != "play 999999 not found" {
			t.Errorf("missing play: %d %q, want 404 with an error", code, body.Error)
		}
		for _, id := range []string{"abc", "0", "-3", "99999999999999999999"} {
			if code := getJSON(t, a.url+"/api/plays/"+id, &body); code != 400 || !strings.Contains(body.Error, id) {
				t.Errorf("id %q: %d %q, want 400 naming the id", id, code, body.Error)
			}
		}
	})

	t.Run("absolute urls use APP_HOST", func(t *testing.T) {
		b := startApp(t, migrated(t), []string{"APP_HOST=emothe.example"})
		req, _ := http.NewRequest(http.MethodGet, b.url+"/api/plays/1", nil)
		req.Host = "emothe.example"
		req.Header.Set("X-Forwarded-Proto", "https") // as Fly's proxy sends
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p playResp
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil || p.URL != "https://emothe.example/api/plays/1" {
			t.Fatalf("url = %q (err %v), want https://emothe.example/api/plays/1", p.URL, err)
		}
		// Another Host is refused; the probes still answer.
		if code := getWithHost(t, b.url+"/api/plays", "evil.example"); code != http.StatusMisdirectedRequest {
			t.Errorf("foreign Host: %d, want 421", code)
		}
		if code := getWithHost(t, b.url+"/readyz", "fdaa::5"); code != 200 {
			t.Errorf("/readyz with the machine's address as Host: %d, want 200", code)
		}
	})
}

func getWithHost(t *testing.T, url, host string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// localURL points an absolute URL from the API (built on APP_HOST, which
// defaults to localhost:PORT) at the test server; "" stays "".
func localURL(t *testing.T, a *app, abs string) string {
	t.Helper()
	if abs == "" {
		return ""
	}
	u, err := url.Parse(abs)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("localhost:%d", a.port); u.Host != want {
		t.Fatalf("absolute URL %s is not on APP_HOST %s", abs, want)
	}
	return a.url + u.RequestURI()
}

func TestIndexPageListsCatalogue(t *testing.T) {
	a := startApp(t, migrated(t), nil)
	resp, err := http.Get(a.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	page := string(body)
	for _, want := range []string{
		fmt.Sprintf(`<link rel="canonical" href="http://localhost:%d/">`, a.port),
		"11 plays", "Fuenteovejuna", "La vida es sueño", "Le Tartuffe ou l&#39;Imposteur", "Carlo Goldoni",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("GET / lacks %q", want)
		}
	}
}

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	a := startApp(t, migrated(t), nil)
	for _, id := range []string{"1", "2", "999999"} {
		getJSON(t, a.url+"/api/plays/"+id, nil)
	}
	resp, err := http.Get(a.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metrics := string(b)
	for _, want := range []string{
		`emothe_http_requests_total{code="200",route="GET /api/plays/{id}"} 2`,
		`emothe_http_requests_total{code="404",route="GET /api/plays/{id}"} 1`,
		`emothe_http_request_duration_seconds_count{code="200",route="GET /api/plays/{id}"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if regexp.MustCompile(`route="/api/plays/\d`).MatchString(metrics) {
		t.Error("/metrics labels by raw path")
	}
	// The pool served those requests, so it has opened a connection.
	if !regexp.MustCompile(`(?m)^emothe_db_pool_new_conns_total [1-9]`).MatchString(metrics) ||
		!strings.Contains(metrics, "emothe_db_pool_max_conns ") {
		t.Errorf("/metrics lacks the pool statistics:\n%s", grepLines(metrics, "emothe_db_pool"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestRequestLogsAreJSONWithoutSecrets(t *testing.T) {
	dsn := migrated(t)
	a := startApp(t, dsn, nil)
	req, _ := http.NewRequest(http.MethodGet, a.url+"/api/plays/1", nil)
	req.Header.Set("Fly-Request-Id", "01J0TEST-ams")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "01J0TEST-ams" {
		t.Errorf("X-Request-Id = %q, want the Fly-Request-Id echoed", got)
	}
	if code := a.shutdown(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	var found bool
	for _, line := range strings.Split(strings.TrimSpace(a.stdout.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if entry["request_id"] == "01J0TEST-ams" && entry["route"] == "GET /api/plays/{id}" && entry["status"] == 200.0 {
			found = true
		}
	}
	if !found {
		t.Errorf("no request log line for the request:\n%s", a.stdout)
	}
	u, _ := url.Parse(dsn)
	password, _ := u.User.Password()
	if out := a.stdout.String() + a.stderr.String(); strings.Contains(out, password) || strings.Contains(out, testSecret) {
		t.Errorf("output leaks a secret:\n%s", out)
	}
}
