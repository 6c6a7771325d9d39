package cache

import (
	"os"
)

// sink collects a response body on its way from the origin: in memory up
// to max bytes, then in a temp file of the disk tier when there is one.
// Without a disk tier a larger body overflows the sink and is not stored;
// it is never held whole in memory beyond max.
type sink struct {
	max      int64
	disk     *disk
	buf      []byte
	file     *os.File
	n        int64
	overflow bool
	err      error
	// spilled holds, once after an overflow without a disk tier, the
	// bytes that were held back, for the caller to pass on.
	spilled []byte
}

func newSink(max int64, d *disk, contentLength int64) *sink {
	s := &sink{max: max, disk: d}
	if contentLength > 0 && contentLength <= max {
		s.buf = make([]byte, 0, contentLength)
	}
	return s
}

// write keeps p; it never fails the response: a storage problem only
// means the response is not stored.
func (s *sink) write(p []byte) {
	if s.overflow || s.err != nil {
		return
	}
	s.n += int64(len(p))
	if s.file == nil && s.n <= s.max {
		s.buf = append(s.buf, p...)
		return
	}
	if s.file == nil {
		if s.disk == nil {
			s.overflow = true
			s.spilled = append(s.buf, p...)
			s.buf = nil
			return
		}
		f, err := s.disk.newTemp()
		if err != nil {
			s.err = err
			s.buf = nil
			return
		}
		s.file = f
		if _, err := f.Write(s.buf); err != nil {
			s.fail(err)
			return
		}
		s.buf = nil
	}
	if _, err := s.file.Write(p); err != nil {
		s.fail(err)
	}
}

func (s *sink) fail(err error) {
	s.err = err
	s.discard()
}

// ok reports whether the whole body was kept.
func (s *sink) ok() bool { return !s.overflow && s.err == nil }

// discard drops what was kept (removing the temp file).
func (s *sink) discard() {
	s.buf = nil
	if s.file != nil {
		name := s.file.Name()
		s.file.Close()
		os.Remove(name)
		s.file = nil
	}
}

// finish closes the temp file, if any, and returns the body in memory or
// the temp file's name.
func (s *sink) finish() (body []byte, file string, err error) {
	if s.file != nil {
		name := s.file.Name()
		if err := s.file.Close(); err != nil {
			os.Remove(name)
			return nil, "", err
		}
		s.file = nil
		return nil, name, nil
	}
	if s.buf == nil {
		s.buf = []byte{}
	}
	return s.buf, "", nil
}
