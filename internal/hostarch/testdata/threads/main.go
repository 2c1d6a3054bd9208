// threads prints its GOARCH after work on several threads: run in an image
// root of a foreign arch, it proves that qemu-user starts there, clones
// threads and delivers signals (Go preempts with SIGURG) under the runner's
// confinement.
package main

import (
	"fmt"
	"runtime"
	"sync"
)

func main() {
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	sums := make([]int, 4)
	for i := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 1000000 {
				sums[i] += j % 7
			}
		}()
	}
	wg.Wait()
	fmt.Println(runtime.GOARCH, sums[0])
}
