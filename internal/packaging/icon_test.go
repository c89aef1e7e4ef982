package packaging

import (
	"bytes"
	goflag "flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var updateIcons = goflag.Bool("update-icons", false, "rewrite the Azure DevOps icons")

// shieldIcon draws sloguard's icon: a green shield with a white check mark,
// antialiased by sampling each pixel 4×4 times. It is drawn, not stored as
// a source image, so that anyone can regenerate the PNGs exactly:
//
//	go test ./internal/packaging -run TestIcons -update-icons
func shieldIcon(size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	green := color.NRGBA{R: 0x2e, G: 0x9e, B: 0x5b, A: 0xff}
	dark := color.NRGBA{R: 0x1f, G: 0x6f, B: 0x40, A: 0xff}
	const n = 4 // samples per axis
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var shield, rim, check int
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					// u, v in [0, 1): the unit square of the icon.
					u := (float64(x) + (float64(sx)+0.5)/n) / float64(size)
					v := (float64(y) + (float64(sy)+0.5)/n) / float64(size)
					if inShield(u, v, 0) {
						shield++
						if !inShield(u, v, 0.06) {
							rim++
						} else if onCheck(u, v) {
							check++
						}
					}
				}
			}
			if shield == 0 {
				continue
			}
			// Blend the samples: rim dark green, check white, rest green.
			body := shield - rim - check
			mix := func(c func(color.NRGBA) uint8) uint8 {
				return uint8((float64(c(green))*float64(body) + float64(c(dark))*float64(rim) + 255*float64(check)) / float64(shield))
			}
			img.SetNRGBA(x, y, color.NRGBA{
				R: mix(func(c color.NRGBA) uint8 { return c.R }),
				G: mix(func(c color.NRGBA) uint8 { return c.G }),
				B: mix(func(c color.NRGBA) uint8 { return c.B }),
				A: uint8(255 * shield / (n * n)),
			})
		}
	}
	return img
}

// inShield: a flat top from 0.12 to 0.88 at v = 0.08, straight sides down to
// v = 0.5, then arcs that meet in a point at v = 0.94; inset shrinks it.
func inShield(u, v, inset float64) bool {
	left, right, top, bottom := 0.14+inset, 0.86-inset, 0.08+inset, 0.94-inset*1.6
	if v < top || v > bottom || u < left || u > right {
		return false
	}
	if v <= 0.5 {
		return true
	}
	// Below the middle the half-width narrows along a circle to 0.
	t := (v - 0.5) / (bottom - 0.5)
	half := (right - left) / 2 * math.Sqrt(1-t*t)
	return math.Abs(u-0.5) <= half
}

// onCheck: two strokes, (0.30, 0.50) to (0.45, 0.66) to (0.71, 0.34).
func onCheck(u, v float64) bool {
	const w = 0.065
	return segDist(u, v, 0.30, 0.50, 0.45, 0.66) < w || segDist(u, v, 0.45, 0.66, 0.71, 0.34) < w
}

func segDist(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/(dx*dx+dy*dy)))
	return math.Hypot(px-(ax+t*dx), py-(ay+t*dy))
}

// TestIcons keeps the extension's icon (128 px, the Marketplace's) and the
// task's (32 px, the task catalog's) what shieldIcon draws.
func TestIcons(t *testing.T) {
	for path, size := range map[string]int{"azure-devops/images/icon.png": 128, "azure-devops/task/icon.png": 32} {
		var want bytes.Buffer
		if err := png.Encode(&want, shieldIcon(size)); err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(root, path)
		if *updateIcons {
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, want.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(full)
		if err != nil {
			t.Fatalf("%s: %v (go test ./internal/packaging -run TestIcons -update-icons draws it)", path, err)
		}
		img, err := png.Decode(bytes.NewReader(got))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), size, size)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s is not what shieldIcon draws: go test ./internal/packaging -run TestIcons -update-icons", path)
		}
	}
}
