package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// releaseStartupPages drops this process's mappings of its own
// executable's read-only pages (code, read-only data, the function
// tables) once the node has started (issue 16: a small node). Most of
// those pages only ran or were read once, during start-up (package
// initialisation, configuration, the lists and the index), yet stay
// counted in the RSS: on a kernel that caches the executable in large
// folios, a fault maps a whole folio, up to 2 MiB at once, and an
// edge-only node showed 35 of its 42 MiB resident as file pages.
//
// The pages are clean and file-backed, and never written: MADV_DONTNEED
// only unmaps them, and the next access maps them back from the page
// cache (the file is the same: a running executable cannot be written
// to). MADV_NOHUGEPAGE first, so that they come back a few pages at a
// time, not a huge page at a time. Mappings that hold anonymous
// (written, copy-on-write) pages, or are writable, are left alone. What
// it costs is a minor fault per page touched again; on any error it does
// nothing.
func releaseStartupPages() (released int64) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0
	}
	for _, m := range readOnlyExeMappings(smaps, exe) {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_NOHUGEPAGE); e != 0 {
			continue
		}
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_DONTNEED); e == 0 {
			released += m.rss
		}
	}
	return released
}

type exeMapping struct {
	start, end uint64
	rss        int64 // bytes resident before
}

// readOnlyExeMappings parses /proc/self/smaps: the mappings of the file
// exe that are not writable, private and hold no anonymous pages.
func readOnlyExeMappings(smaps []byte, exe string) []exeMapping {
	var out []exeMapping
	var cur *exeMapping
	ok := false
	anon := int64(0)
	flush := func() {
		if cur != nil && ok && anon == 0 {
			out = append(out, *cur)
		}
		cur, ok, anon = nil, false, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping's header line
			flush()
			if len(f) < 6 || strings.Join(f[5:], " ") != exe {
				continue
			}
			lo, hi, found := strings.Cut(f[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			perms := f[1]
			if !found || err1 != nil || err2 != nil || end <= start || len(perms) != 4 || perms[1] != '-' || perms[3] != 'p' {
				continue
			}
			cur, ok = &exeMapping{start: start, end: end}, true
			continue
		}
		if cur == nil || len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "Rss:":
			cur.rss = kb << 10
		case "Anonymous:":
			anon = kb
		}
	}
	flush()
	if sc.Err() != nil {
		return nil
	}
	return out
}
