package main

import (
	"fmt"

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
				fmt.Fprint(d.Stdout(), script)
			default:
				return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("completion %q: name a shell: bash, zsh or fish (see sloguard completion --help)", shell)}
			}
			return nil
		},
	}
}
