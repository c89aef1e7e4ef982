// Package action holds no code: its tests run the GitHub Action's steps
// (action.yml, install.sh) as the runner would, with bash, against a
// release and a git repository served on loopback.
package action
