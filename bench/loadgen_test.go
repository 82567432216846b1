package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// sample is the outcome of one request of an open-loop schedule. latency
// runs from the time the schedule gave the request, not from the time it
// was sent, so a stalled server delays the requests queued behind it
// instead of hiding them (coordinated omission).
type sample struct {
	latency time.Duration
	lag     time.Duration // how late the request left after its scheduled time
	status  int
	err     error
}

// openLoop posts bodies[i] to target at start + i*interval without waiting
// for earlier responses, and returns the samples in schedule order.
func openLoop(client *http.Client, target string, bodies []string, interval time.Duration, start time.Time) []sample {
	samples := make([]sample, len(bodies))
	var wg sync.WaitGroup
	for i, body := range bodies {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		wg.Go(func() { samples[i] = postForm(client, target, body, due) })
	}
	wg.Wait()
	return samples
}

// postForm posts one form body and reads the whole response.
func postForm(client *http.Client, target, body string, due time.Time) sample {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return sample{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s := sample{lag: time.Since(due)}
	res, err := client.Do(req)
	if err != nil {
		s.latency, s.err = time.Since(due), err
		return s
	}
	_, err = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	s.latency, s.status, s.err = time.Since(due), res.StatusCode, err
	return s
}

// newLoopbackClient returns a client that keeps enough idle connections for
// a stalled server's backlog and dials only loopback addresses.
func newLoopbackClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					return nil, fmt.Errorf("dial %s: %w", addr, errNotLoopback)
				}
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConns:        2000,
			MaxIdleConnsPerHost: 2000,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// errNotLoopback is returned by newLoopbackClient's dialer for any address
// that is not a loopback IP.
var errNotLoopback = errors.New("not a loopback address, and the benchmarks post only to loopback")

// summarizeSamples returns the latency summary of every sample, the number
// of requests that failed or got a status other than 200, and the largest
// send lag.
func summarizeSamples(samples []sample) (latencySummary, int, time.Duration) {
	latencies := make([]time.Duration, 0, len(samples))
	failed := 0
	var lag time.Duration
	for _, s := range samples {
		latencies = append(latencies, s.latency)
		lag = max(lag, s.lag)
		if s.err != nil || s.status != http.StatusOK {
			failed++
		}
	}
	return summarize(latencies), failed, lag
}
