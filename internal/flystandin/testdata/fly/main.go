// Command fly stands in for flyctl in tests, which cannot reach Fly.io:
// it implements only `fly proxy <local>:<remote> <host> -a <app>` and
// `fly mpg proxy <cluster>`, forwarding a loopback port to the address
// that routes.json, in the stand-in's own directory, gives for the host or
// cluster ID (a JSON object of host:port), and prints what flyctl prints
// once it listens. `mpg proxy` listens on the port the file mpg-port there
// holds (flyctl's own is 16380). Like flyctl, it wants a token (FLY_API_TOKEN).
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
	dir, err := home()
	if err != nil {
		return err
	}
	routes, err := os.ReadFile(filepath.Join(dir, "routes.json"))
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
		port, err := os.ReadFile(filepath.Join(dir, "mpg-port"))
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		return forward(cmp.Or(strings.TrimSpace(string(port)), "16380"), args[2], targets[args[2]])
	}
	return fmt.Errorf("the stand-in fly implements only `proxy` and `mpg proxy`, not %q", args)
}

// home is the stand-in's own directory, where the test writes its routes
// (and mpg proxy's port) and the stand-in logs its calls: no environment,
// so tests in parallel each have their own.
func home() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.Dir(exe), nil
}

// record appends the invocation to the log.
func record(args []string) {
	dir, err := home()
	if err != nil {
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
