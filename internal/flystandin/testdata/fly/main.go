// Command fly stands in for flyctl in tests, which cannot reach Fly.io:
// it implements only `fly proxy <local>:<remote> <host> -a <app>` and
// `fly mpg proxy <cluster>`, forwarding a loopback port to the address
// that routes.json in the directory EMOTHE_FLY_STANDIN_DIR gives for the
// host or cluster ID (a JSON object of host:port), and prints what flyctl
// prints once it listens. `mpg proxy` listens on EMOTHE_FLY_STANDIN_MPG_PORT
// (flyctl's own is 16380). Like flyctl, it wants a token (FLY_API_TOKEN).
// Each invocation is appended to calls.log in the same directory, with
// whether a token was given (never the token).
package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	record(args)
	if os.Getenv("FLY_API_TOKEN") == "" {
		return errors.New("no access token available. Please login with 'flyctl auth login'")
	}
	var targets map[string]string
	routes, err := os.ReadFile(filepath.Join(os.Getenv("EMOTHE_FLY_STANDIN_DIR"), "routes.json"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if len(routes) == 0 {
		routes = []byte("{}")
	}
	if err := json.Unmarshal(routes, &targets); err != nil {
		return fmt.Errorf("routes.json: %w", err)
	}
	switch {
	case len(args) >= 1 && args[0] == "proxy":
		fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
		app := fs.String("app", "", "")
		fs.StringVar(app, "a", "", "")
		// flyctl takes flags after the positional arguments too.
		var pos []string
		rest := args[1:]
		for len(rest) > 0 {
			if err := fs.Parse(rest); err != nil {
				return err
			}
			if fs.NArg() == 0 {
				break
			}
			pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
		}
		if *app == "" {
			return errors.New("the config for your app is missing an app name, add an app field to the fly.toml file or specify with the -a flag")
		}
		if len(pos) != 2 {
			return fmt.Errorf("want proxy <local:remote> <host>, got %q", pos)
		}
		local, remote, ok := strings.Cut(pos[0], ":")
		if !ok {
			remote = local
		}
		return forward(local, pos[1]+":"+remote, targets[pos[1]])
	case len(args) >= 3 && args[0] == "mpg" && args[1] == "proxy":
		return forward(cmp.Or(os.Getenv("EMOTHE_FLY_STANDIN_MPG_PORT"), "16380"), args[2], targets[args[2]])
	}
	return fmt.Errorf("the stand-in fly implements only `proxy` and `mpg proxy`, not %q", args)
}

// record appends the invocation to the log, if there is one.
func record(args []string) {
	dir := os.Getenv("EMOTHE_FLY_STANDIN_DIR")
	if dir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "calls.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	token := "no token"
	if os.Getenv("FLY_API_TOKEN") != "" {
		token = "token"
	}
	fmt.Fprintf(f, "%s (%s)\n", strings.Join(args, " "), token)
}

// forward listens on 127.0.0.1:port and copies each connection to and
// from upstream, until interrupted.
func forward(port, remote, upstream string) error {
	if upstream == "" {
		return fmt.Errorf("could not resolve %s: no such host on the organization's network", remote)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return err
	}
	// Like flyctl, port 0 binds a free port, and the line names it.
	fmt.Printf("Proxying local port %d to remote [%s]\n", l.Addr().(*net.TCPAddr).Port, remote)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		l.Close()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return nil // closed by a signal
		}
		go pipe(c, upstream)
	}
}

func pipe(c net.Conn, upstream string) {
	defer c.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(u, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
	<-done
}
