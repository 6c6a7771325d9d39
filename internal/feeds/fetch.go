package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rampart-edge/rampart/internal/config"
)

// validators are a file's HTTP cache validators from its last accepted
// download.
type validators struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Modified     time.Time `json:"modified,omitzero"` // parsed Last-Modified
}

// got is the outcome of one file's request.
type got struct {
	status   int // 200, 304 or 404
	data     []byte
	val      validators
	tooLarge int64 // > 0: the size seen over the cap
}

// errRedirect is a redirect to a URL a feed may not use.
var errRedirect = errors.New("redirect refused")

// newClient is the feeds' HTTP client: no redirect to a URL that is not
// https (or loopback), at most 5 redirects; the timeout is per request.
func newClient(transport http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return fmt.Errorf("%w: more than 5 redirects", errRedirect)
			}
			if err := config.FeedURLAllowed(req.URL.String()); err != nil {
				return fmt.Errorf("%w to %s: %v", errRedirect, req.URL.Redacted(), err)
			}
			return nil
		},
	}
}

// retryable reports whether a failed request may be tried again.
func retryable(status int, err error) bool {
	if status != 0 {
		return status == http.StatusTooManyRequests || status >= 500
	}
	if err != nil {
		return !errors.Is(err, errRedirect) && !errors.Is(err, context.Canceled)
	}
	return status == http.StatusTooManyRequests || status >= 500
}

// progressFunc is told of a download's progress (total -1 if unknown).
type progressFunc func(file string, done, total int64)

// get fetches one file once, conditionally when prev has validators.
func (s *Scheduler) get(ctx context.Context, f config.Feed, name, u string, prev validators, progress progressFunc) (got, int, error) {
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return got{}, 0, err
	}
	req.Header.Set("User-Agent", s.userAgent(f))
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return got{}, 0, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return got{status: http.StatusNotModified, val: prev}, resp.StatusCode, nil
	case http.StatusNotFound, http.StatusGone:
		return got{status: http.StatusNotFound}, resp.StatusCode, nil
	case http.StatusOK:
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return got{}, resp.StatusCode, fmt.Errorf("%s: %s", u, resp.Status)
	}
	val := validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	if t, err := http.ParseTime(val.LastModified); err == nil {
		val.Modified = t.UTC()
	}
	if resp.ContentLength > f.MaxSize {
		return got{status: http.StatusOK, tooLarge: resp.ContentLength}, resp.StatusCode, nil
	}
	var r io.Reader = io.LimitReader(resp.Body, f.MaxSize+1)
	if progress != nil {
		r = &progressReader{r: r, file: name, total: resp.ContentLength, fn: progress}
	}
	capHint := int64(0)
	if resp.ContentLength > 0 {
		capHint = resp.ContentLength
	}
	buf := make([]byte, 0, capHint+1)
	data, err := readAll(r, buf)
	if err != nil {
		return got{}, resp.StatusCode, fmt.Errorf("%s: reading the body: %w", u, err)
	}
	if int64(len(data)) > f.MaxSize {
		return got{status: http.StatusOK, tooLarge: int64(len(data))}, resp.StatusCode, nil
	}
	if resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength {
		// Read errors on a short body are caught above; this is a server
		// that closed early without saying so.
		return got{}, resp.StatusCode, fmt.Errorf("%s: truncated: %d of %d bytes", u, len(data), resp.ContentLength)
	}
	return got{status: http.StatusOK, data: data, val: val}, resp.StatusCode, nil
}

func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				return b, nil
			}
			return b, err
		}
	}
}

type progressReader struct {
	r     io.Reader
	file  string
	done  int64
	total int64
	fn    progressFunc
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	p.fn(p.file, p.done, p.total)
	return n, err
}

// getRetry is get with retries and exponential backoff.
func (s *Scheduler) getRetry(ctx context.Context, f config.Feed, name, u string, prev validators, progress progressFunc) (got, error) {
	var lastErr error
	for attempt := 0; attempt <= max(f.Retries, 0); attempt++ {
		if attempt > 0 {
			d := s.backoff << (attempt - 1)
			select {
			case <-ctx.Done():
				return got{}, ctx.Err()
			case <-time.After(d):
			}
		}
		g, status, err := s.get(ctx, f, name, u, prev, progress)
		if err == nil {
			return g, nil
		}
		lastErr = err
		if !retryable(status, err) {
			break
		}
	}
	return got{}, lastErr
}

func (s *Scheduler) userAgent(f config.Feed) string {
	if f.UserAgent != "" {
		return f.UserAgent
	}
	return "rampart/" + s.version + " (+sanctions list feed)"
}
