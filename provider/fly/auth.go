package fly

import (
	"errors"
	"strings"
	"unicode"
)

// macaroonPrefixes mark Fly macaroon tokens, which go out under the FlyV1
// scheme; anything else is an OAuth token sent as Bearer (fly-go does the same).
var macaroonPrefixes = []string{"fm1r_", "fm1a_", "fm2_"}

var errNoToken = errors.New("fly: no API token: set the provider config flyio:token " +
	"(or the FLY_API_TOKEN environment variable) to the output of `fly tokens create deploy`")

// authHeader turns a token as users paste it into the Authorization header
// Fly expects, and returns the token's parts so they can be kept out of errors.
// Its errors never quote the token.
func authHeader(token string) (header string, parts []string, err error) {
	t := strings.TrimSpace(token)
	for _, scheme := range []string{"FlyV1", "Bearer"} {
		n := len(scheme)
		if len(t) >= n && strings.EqualFold(t[:n], scheme) && (len(t) == n || t[n] == ' ') {
			t = t[n:]
			break
		}
	}
	var macaroons, others []string
	for _, p := range strings.Split(t, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			return "", nil, errors.New("fly: the API token (flyio:token / FLY_API_TOKEN) contains spaces or control " +
				"characters; paste it exactly as `fly tokens create deploy` prints it")
		case hasMacaroonPrefix(p):
			macaroons = append(macaroons, p)
		default:
			others = append(others, p)
		}
	}
	switch {
	case len(macaroons) > 0:
		return "FlyV1 " + strings.Join(macaroons, ","), append(macaroons, others...), nil
	case len(others) > 0:
		return "Bearer " + others[0], others, nil
	default:
		return "", nil, errNoToken
	}
}

func hasMacaroonPrefix(s string) bool {
	for _, p := range macaroonPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// redact replaces every occurrence of the secrets in s.
func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}
