package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

// Shell completion: the scripts ask the binary itself for candidates
// (urfave/cli's --generate-bash-completion), so they follow every new
// command and flag.
//
//	source <(sloguard completion bash)
//	sloguard completion zsh > "${fpath[1]}/_sloguard"
//	sloguard completion fish > ~/.config/fish/completions/sloguard.fish

const bashCompletion = `# sloguard bash completion: source <(sloguard completion bash)
_sloguard_complete() {
  local cur=${COMP_WORDS[COMP_CWORD]} opts
  local words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "${opts}" -- "$cur"))
}
complete -o bashdefault -o default -F _sloguard_complete sloguard
`

const zshCompletion = `#compdef sloguard
# sloguard zsh completion: sloguard completion zsh > "${fpath[1]}/_sloguard"
_sloguard() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} "$cur" --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _sloguard sloguard
`

func completionCommand(d *app.App) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Action: func(c *cli.Context) error {
			switch shell := c.Args().First(); shell {
			case "bash":
				fmt.Fprint(d.Stdout(), bashCompletion)
			case "zsh":
				fmt.Fprint(d.Stdout(), zshCompletion)
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(d.Stdout(), dedupeFish(script))
			default:
				return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("completion %q: name a shell: bash, zsh or fish (see sloguard completion --help)", shell)}
			}
			return nil
		},
	}
}

// dedupeFish drops what urfave/cli's fish script says twice once the app
// has been set up (the help command and the --help flag are added again):
// a repeated complete line, a repeated name in the list of commands.
func dedupeFish(script string) string {
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.SplitAfter(script, "\n") {
		if before, names, ok := strings.Cut(line, "contains -- $i "); ok {
			var uniq []string
			for _, n := range strings.Fields(names) {
				if !slices.Contains(uniq, n) {
					uniq = append(uniq, n)
				}
			}
			line = before + "contains -- $i " + strings.Join(uniq, " ") + "\n"
		}
		if strings.HasPrefix(line, "complete ") {
			if seen[line] {
				continue
			}
			seen[line] = true
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}
