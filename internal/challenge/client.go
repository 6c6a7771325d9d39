package challenge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// TokenFromPage extracts the challenge token from a challenge page (its
// <meta name="rampart-challenge"> tag).
func TokenFromPage(page []byte) (string, error) {
	const marker = `<meta name="rampart-challenge" content="`
	s := string(page)
	i := strings.Index(s, marker)
	if i < 0 {
		return "", errors.New("finding challenge token: no rampart-challenge meta tag in the page")
	}
	s = s[i+len(marker):]
	j := strings.IndexByte(s, '"')
	if j < 0 {
		return "", errors.New("finding challenge token: unterminated meta tag")
	}
	return s[:j], nil
}

// EarnClearance plays a legitimate non-browser client: it GETs pageURL
// and, if challenged, solves the challenge with Solve and posts the
// solution, returning the clearance cookie (nil if pageURL was not
// challenged). The cookie is bound to userAgent ("" leaves Go's default)
// and to the client's address prefix: later requests must send the same
// User-Agent from the same /24 or /64. client's redirect policy is not
// used; the verify response is read as is.
func EarnClearance(ctx context.Context, client *http.Client, pageURL, userAgent string) (*http.Cookie, error) {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pageURL, nil)
	if err != nil {
		return nil, fmt.Errorf("earning clearance: %w", err)
	}
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("earning clearance: fetching %s: %w", pageURL, err)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("earning clearance: reading %s: %w", pageURL, err)
	}
	if resp.Header.Get("Rampart-Challenge") == "" {
		return nil, nil
	}
	token, err := TokenFromPage(page)
	if err != nil {
		return nil, fmt.Errorf("earning clearance: %w", err)
	}
	counter, err := Solve(token)
	if err != nil {
		return nil, fmt.Errorf("earning clearance: %w", err)
	}
	u, err := url.Parse(pageURL)
	if err != nil {
		return nil, fmt.Errorf("earning clearance: %w", err)
	}
	verify := u.ResolveReference(&url.URL{Path: VerifyPath})
	form := url.Values{"token": {token}, "counter": {fmt.Sprint(counter)}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, verify.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("earning clearance: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err = c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("earning clearance: posting solution: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("earning clearance: solution answered %s, want 303", resp.Status)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == CookieName {
			return ck, nil
		}
	}
	return nil, errors.New("earning clearance: no clearance cookie in the verify response")
}
