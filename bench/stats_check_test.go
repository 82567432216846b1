package bench

import (
	"reflect"
	"testing"
	"time"

	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestPercentileNearestRank(t *testing.T) {
	var sorted []time.Duration
	for i := 1; i <= 200; i++ {
		sorted = append(sorted, time.Duration(i)*time.Millisecond)
	}
	cases := []struct {
		p    float64
		want time.Duration
	}{
		{50, 100 * time.Millisecond},
		{99, 198 * time.Millisecond},
		{100, 200 * time.Millisecond},
		{0.1, time.Millisecond},
	}
	for _, tc := range cases {
		if got := percentile(sorted, tc.p); got != tc.want {
			t.Errorf("p%v = %s, want %s", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of no samples = %s, want 0", got)
	}
}

func TestSummarizeKeepsMaxAndMean(t *testing.T) {
	samples := []time.Duration{3 * time.Millisecond, 1 * time.Millisecond, 250 * time.Millisecond, 2 * time.Millisecond}
	s := summarize(samples)
	if s.max != 250*time.Millisecond {
		t.Errorf("max = %s, want 250ms", s.max)
	}
	if s.mean != 64*time.Millisecond {
		t.Errorf("mean = %s, want 64ms", s.mean)
	}
	if s.p50 != 2*time.Millisecond {
		t.Errorf("p50 = %s, want 2ms", s.p50)
	}
	if s.overHundredMs != 1 {
		t.Errorf("%d samples over 100 ms, want 1", s.overHundredMs)
	}
	if samples[0] != 3*time.Millisecond {
		t.Error("summarize reordered its input")
	}
}

func TestPerBucketCountsByOffset(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	times := []time.Time{
		start.Add(-time.Millisecond),
		start.Add(10 * time.Millisecond),
		start.Add(99 * time.Millisecond),
		start.Add(100 * time.Millisecond),
		start.Add(350 * time.Millisecond),
	}
	got := perBucket(times, start, 100*time.Millisecond)
	if want := []int{3, 1, 0, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("buckets = %v, want %v", got, want)
	}
}

func TestCheckDeliveryFindsDisorder(t *testing.T) {
	msg := func(id, text string) b24fake.ReceivedMessage {
		return b24fake.ReceivedMessage{ExternalID: id, Message: map[string]any{"text": text}, Success: true}
	}
	rejected := msg("b3", "chat 2 msg 3")
	rejected.Success = false
	got := []b24fake.ReceivedMessage{
		msg("a1", "chat 1 msg 1"),
		msg("b1", "chat 2 msg 1"),
		msg("a3", "chat 1 msg 3"),
		msg("a2", "chat 1 msg 2"),
		msg("a3", "chat 1 msg 3"),
		rejected,
		msg("b2", "chat 2 msg 2"),
	}
	c, err := checkDelivery(got)
	if err != nil {
		t.Fatal(err)
	}
	if c.distinct != 5 {
		t.Errorf("distinct = %d, want 5", c.distinct)
	}
	if c.duplicates != 1 {
		t.Errorf("duplicates = %d, want 1", c.duplicates)
	}
	if c.rejected != 1 {
		t.Errorf("rejected = %d, want 1", c.rejected)
	}
	if c.violations != 1 || c.violationsByChat["1"] != 1 {
		t.Errorf("violations = %d by chat %v, want 1 in chat 1", c.violations, c.violationsByChat)
	}
	if _, err := checkDelivery([]b24fake.ReceivedMessage{msg("x", "hello")}); err == nil {
		t.Error("a text without numbering was accepted")
	}
}

func TestWindowP99PerRun(t *testing.T) {
	var samples []time.Duration
	for i := 1; i <= 250; i++ {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	got := windowP99(samples, 100)
	want := []time.Duration{99 * time.Millisecond, 199 * time.Millisecond, 250 * time.Millisecond}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("window p99 = %v, want %v", got, want)
	}
	if s := formatMillis(got); s != "99.0 199.0 250.0" {
		t.Errorf("formatted %q", s)
	}
}

func TestRunLengthsFoldsRepeats(t *testing.T) {
	cases := []struct {
		in   []int
		want string
	}{
		{[]int{1, 10, 10, 10, 8, 1, 1}, "1, 10×3, 8, 1×2"},
		{[]int{5}, "5"},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := runLengths(tc.in); got != tc.want {
			t.Errorf("runLengths(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
