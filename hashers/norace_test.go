//go:build !race

package hashers

// raceEnabled reports a build with the race detector, under which the
// pure-Go bcrypt and scrypt run many times slower.
const raceEnabled = false
