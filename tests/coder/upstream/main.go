// Command upstream stands in for Coder behind coder-front.conf in the
// replay test: a go-chi router holding every route of tests/coder/routes.tsv
// (Coder's own route table), answering each request with the pattern it
// matched and the identity headers it received.  A websocket upgrade is
// answered 101 and echoed.  GET /__seen on the test port lists the
// X-Test-Id of every request that reached a route.
//
//	upstream <routes.tsv> <port>
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/go-chi/chi"
	"github.com/google/uuid"
)

type seenSet struct {
	mu  sync.Mutex
	ids []string
}

func (s *seenSet) add(id string) {
	if id == "" {
		return
	}
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
}

var seen seenSet

// The subdomain form of workspace apps: {app}--{agent}--{workspace}--{user}.
var subdomain = regexp.MustCompile(`^[^.]+--[^.]+--[^.]+--[^.]+\.`)

func answer(w http.ResponseWriter, r *http.Request, route string) {
	seen.add(r.Header.Get("X-Test-Id"))

	ids := map[string][]string{}
	for k, v := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-rbac") {
			ids[k] = v
		}
	}

	// Each parameter as Coder's uuid.Parse reads it: the canonical form
	// when it parses (Coder's Extract*Param accept any spelling it takes).
	params := map[string]string{}
	uuids := map[string]string{}
	if rc := chi.RouteContext(r.Context()); rc != nil {
		for i, k := range rc.URLParams.Keys {
			params[k] = rc.URLParams.Values[i]
			if u, err := uuid.Parse(params[k]); err == nil {
				uuids[k] = u.String()
			}
		}
	}

	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		upgrade(w, route)
		return
	}

	body, _ := json.Marshal(map[string]interface{}{
		"route": route, "params": params, "uuids": uuids, "headers": ids,
		"path": r.URL.EscapedPath(),
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Route", route)
	io.Copy(io.Discard, r.Body)
	w.Write(body)
}

// upgrade switches the connection and echoes what the client sends.
func upgrade(w http.ResponseWriter, route string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijack", 500)
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nX-Route: %s\r\n\r\n",
		route)
	rw.Flush()
	buf := make([]byte, 4096)
	for {
		n, err := rw.Read(buf)
		if n > 0 {
			rw.Write(buf[:n])
			rw.Flush()
		}
		if err != nil {
			return
		}
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: upstream <routes.tsv> <port>")
		os.Exit(2)
	}

	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"route":""}`, 404)
	})

	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		col := strings.Split(line, "\t")
		method, pattern, slash := col[0], col[1], col[8]
		if !strings.HasPrefix(pattern, "/") {
			continue // the subdomain form, served by Host below
		}
		route := method + " " + pattern
		h := func(w http.ResponseWriter, q *http.Request) {
			answer(w, q, route)
		}
		switch {
		case method == "ANY":
			r.HandleFunc(pattern, h)
		case strings.HasPrefix(method, "ANY"):
			r.HandleFunc(pattern, h)
			r.HandleFunc(pattern+"/*", h)
		default:
			r.MethodFunc(method, pattern, h)
			if slash == "y" {
				r.MethodFunc(method, pattern+"/", h)
			}
		}
		n++
	}

	top := http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		if q.URL.Path == "/__seen" && q.Header.Get("X-Test-Id") == "" {
			seen.mu.Lock()
			b, _ := json.Marshal(seen.ids)
			seen.mu.Unlock()
			w.Write(b)
			return
		}
		if subdomain.MatchString(q.Host) {
			answer(w, q, "ANY {app}--{agent}--{workspace}--{user}.<wildcard>/*")
			return
		}
		r.ServeHTTP(w, q)
	})

	fmt.Printf("routes %d\n", n)
	os.Stdout.Sync()
	err = http.ListenAndServe("127.0.0.1:"+os.Args[2], top)
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
