package bench

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// loadAverage returns the 1-minute load average from /proc/loadavg, or
// "unknown" off Linux. Other processes on the machine slow the benchmarks
// down, so every report records it.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return "unknown"
	}
	return fields[0]
}

// gcMark is the garbage collector's count at one moment.
type gcMark struct{ numGC uint32 }

func markGC() gcMark {
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return gcMark{numGC: stats.NumGC}
}

// since describes the collections after m: how many ran and the longest
// stop-the-world pause among the last 256 of them.
func (m gcMark) since() string {
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	count := stats.NumGC - m.numGC
	var longest time.Duration
	for i := uint32(0); i < min(count, uint32(len(stats.PauseNs))); i++ {
		pause := time.Duration(stats.PauseNs[(stats.NumGC-1-i)%uint32(len(stats.PauseNs))])
		longest = max(longest, pause)
	}
	return fmt.Sprintf("%d collections, longest pause %s", count, longest)
}

// conditions records the machine's load and the collections of this
// process around one measurement.
type conditions struct {
	loadBefore, loadAfter string
	gc                    gcMark
	collections           string
}

func startConditions() *conditions {
	return &conditions{loadBefore: loadAverage(), gc: markGC()}
}

func (c *conditions) stop() {
	c.loadAfter = loadAverage()
	c.collections = c.gc.since()
}

func (c *conditions) String() string {
	return fmt.Sprintf("load average %s before, %s after; %s", c.loadBefore, c.loadAfter, c.collections)
}
