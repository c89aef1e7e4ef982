// Package suggest finds the names closest to a misspelt one, for the "did
// you mean" hints of config errors, unknown metrics and label values that
// match nothing.
package suggest

import (
	"sort"
	"strings"
)

// Distance is the Levenshtein distance between a and b, counted in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// maxLen bounds the words compared: the distance costs their product, and
// no typo hides in a 200-character name.
const maxLen = 200

// Closest returns up to n candidates near enough to word to be a typo of
// it, nearest first (ties in candidate order): at most a third of word's
// length away and never more than 3 edits (a long name shares most of its
// letters with its neighbours), at least one; case differences count as
// one edit at most. word itself is never suggested.
func Closest(word string, candidates []string, n int) []string {
	if n <= 0 || word == "" || len(word) > maxLen {
		return nil
	}
	limit := min(3, max(1, len([]rune(word))/3))
	type hit struct {
		s    string
		d, i int
	}
	var hits []hit
	seen := map[string]bool{}
	lw := strings.ToLower(word)
	for i, c := range candidates {
		if c == word || seen[c] || len(c) > maxLen {
			continue
		}
		seen[c] = true
		d := Distance(lw, strings.ToLower(c))
		if d == 0 {
			d = 1 // the same but for case
		}
		if d <= limit {
			hits = append(hits, hit{c, d, i})
		}
	}
	sort.Slice(hits, func(a, b int) bool {
		if hits[a].d != hits[b].d {
			return hits[a].d < hits[b].d
		}
		return hits[a].i < hits[b].i
	})
	if len(hits) == 0 {
		return nil
	}
	out := make([]string, 0, min(n, len(hits)))
	for _, h := range hits[:min(n, len(hits))] {
		out = append(out, h.s)
	}
	return out
}

// Phrase writes suggestions as "a", "a or b", "a, b or c"; "" for none.
func Phrase(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
