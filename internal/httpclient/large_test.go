package httpclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
)

// Past SmallAnswer bytes, an answer reads on only while it holds the one
// slot of the Large its clients share: a second large answer waits (within
// its request's context) until the first has ended or been closed, so that
// concurrent large answers never sit in memory together.
func TestLargeAnswersAreReadOneAtATime(t *testing.T) {
	srv, _ := streamer(t, 3*SmallAnswer, false)
	large := NewLarge()
	open := func(ctx context.Context) io.ReadCloser {
		t.Helper()
		c, err := New(Options{Large: large}) // two clients: two backends of one run
		if err != nil {
			t.Fatal(err)
		}
		req, err := newGet(ctx, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := Standard(c).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Body
	}
	first := open(t.Context())
	if _, err := io.ReadFull(first, make([]byte, 2*SmallAnswer)); err != nil { // holds the slot
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	second := open(ctx)
	defer second.Close()
	if _, err := io.ReadFull(second, make([]byte, SmallAnswer)); err != nil { // small so far: no wait
		t.Fatalf("the first %d bytes: %v", SmallAnswer, err)
	}
	done := make(chan error, 1)
	go func() {
		n, err := second.Read(make([]byte, 1024))
		if n != 0 {
			err = errors.New("read on while the first answer held the slot")
		}
		done <- err
	}()
	cancel() // the wait ends with the request's context
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the second large answer: %v, want it to wait for the slot until its context ended", err)
	}
	first.Close() // gives the slot back
	third := open(t.Context())
	defer third.Close()
	if n, err := io.Copy(io.Discard, third); err != nil || n != 3*SmallAnswer {
		t.Errorf("after the first closed: read %d bytes, %v; want all %d", n, err, 3*SmallAnswer)
	}
}

func newGet(ctx context.Context, url string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
}
