package ci

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// maxCommentBody is GitHub's limit on a comment's body, in characters.
const maxCommentBody = 65536

// CommentMarker is the hidden first line that finds sloguard's comment for
// one check again on a re-run: one comment per check name, updated in place.
func CommentMarker(checkName string) string {
	return "<!-- sloguard: " + strings.NewReplacer("--", "-", ">", "").Replace(checkName) + " -->"
}

// UpsertComment keeps one comment on the pull request: the one that starts
// with marker is updated, else one is created. It returns the comment's URL.
func (g *GitHubAPI) UpsertComment(ctx context.Context, pr int, marker, body string) (string, error) {
	body = truncateMarkdown(marker+"\n"+body, maxCommentBody)
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := g.client.Issues.ListComments(ctx, g.owner, g.repo, pr, opts)
		if err != nil {
			return "", g.commentError(err, fmt.Sprintf("list the comments of pull request #%d", pr))
		}
		for _, c := range comments {
			if strings.HasPrefix(c.GetBody(), marker) {
				edited, _, err := g.client.Issues.EditComment(ctx, g.owner, g.repo, c.GetID(), &github.IssueComment{Body: github.String(body)})
				if err != nil {
					return "", g.commentError(err, fmt.Sprintf("update comment %d on pull request #%d", c.GetID(), pr))
				}
				return edited.GetHTMLURL(), nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	created, _, err := g.client.Issues.CreateComment(ctx, g.owner, g.repo, pr, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return "", g.commentError(err, fmt.Sprintf("comment on pull request #%d", pr))
	}
	return created.GetHTMLURL(), nil
}

func (g *GitHubAPI) commentError(err error, op string) error {
	if pe := permissionError(err, op, "pull-requests: write"); pe != nil {
		return pe
	}
	return fmt.Errorf("%s: %w", op, explain(err))
}
