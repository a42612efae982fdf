//go:build !race

package loginkit_test

// raceEnabled reports a build with the race detector, which changes both
// timings and allocation counts.
const raceEnabled = false
