//go:build !linux

package pgginkgo

func memoryBackedDir() (string, int64) { return "", -1 }

func totalMemory() int64 { return -1 }
