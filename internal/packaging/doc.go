// Package packaging holds no code: its tests check what ships sloguard
// outside Go, against the code and against each other: the Dockerfile (with
// the Dockerfile parser Docker itself uses), the Makefile's build, the
// GitHub Action's metadata, the Azure DevOps task and extension manifests,
// and the examples.
package packaging
