package agent

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A postmaster that exits removes its shared memory; one killed with
// SIGKILL cannot. It leaves a small System V segment (PostgreSQL keeps its
// main memory in an anonymous mapping and uses the segment as an interlock
// that holds the shared memory header) and, with
// dynamic_shared_memory_type=posix, files in /dev/shm. The agent starts
// postgres with mmap, whose files sit in data/pg_dynshmem and go with the
// cluster directory, unless the user asked for posix; releaseIPC removes
// the rest, taking only what provably belongs to the dead cluster:
//
//   - the segment's id and key come from the data directory's
//     postmaster.pid, and the kernel must report the same key, the dead
//     postmaster as its creator, our uid as owner and creator, and no
//     process attached;
//   - its header must carry PostgreSQL's magic number and the postmaster's
//     PID; it names the dynamic shared memory control segment, which lists
//     the cluster's other segments: PostgreSQL's own crash restart follows
//     the same chain;
//   - every file removed from /dev/shm must be ours and, for the control
//     segment, carry its magic number.

const (
	pgShmemMagic     = 679834894  // PGShmemMagic, pg_shmem.h
	dsmControlMagic  = 0x9a503d32 // PG_DYNSHMEM_CONTROL_MAGIC, dsm.c
	posixDSMTemplate = "/dev/shm/PostgreSQL.%d"
)

// releaseIPC removes what a killed postmaster of dataDir left in shared
// memory, waiting up to wait for its last processes to detach, and says
// what it removed.
func releaseIPC(dataDir string, wait time.Duration) []string {
	pm, key, shmid, ok := postmasterShm(dataDir)
	if !ok || isPostmasterOf(pm, dataDir) {
		return nil
	}
	uid := uint32(os.Geteuid())
	deadline := time.Now().Add(wait)
	for {
		var d unix.SysvShmDesc
		if _, err := unix.SysvShmCtl(shmid, unix.IPC_STAT, &d); err != nil {
			return nil // already gone
		}
		if d.Perm.Key != int32(key) || d.Cpid != int32(pm) || d.Perm.Uid != uid || d.Perm.Cuid != uid {
			return nil // not the dead postmaster's, or not ours
		}
		if d.Nattch == 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil // a process of the dead cluster still runs
		}
		time.Sleep(10 * time.Millisecond)
	}
	var removed []string
	if h, ok := dsmControl(shmid, pm); ok && h != 0 && posixDSM(dataDir) {
		removed = removePosixDSM(h, uid)
	}
	if _, err := unix.SysvShmCtl(shmid, unix.IPC_RMID, nil); err == nil {
		removed = append(removed, fmt.Sprintf("System V segment %d", shmid))
	}
	return removed
}

// postmasterShm reads postmaster.pid: the PID on line 1, and the segment's
// key and id on line 7.
func postmasterShm(dataDir string) (pid int, key int64, shmid int, ok bool) {
	f, err := os.Open(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, 0, 0, false
	}
	defer f.Close()
	var lines []string
	for sc := bufio.NewScanner(f); sc.Scan() && len(lines) < 7; {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 7 {
		return 0, 0, 0, false
	}
	ids := strings.Fields(lines[6])
	if len(ids) != 2 {
		return 0, 0, 0, false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	key, err2 := strconv.ParseInt(ids[0], 10, 64)
	shmid, err3 := strconv.Atoi(ids[1])
	if err1 != nil || err2 != nil || err3 != nil || pid <= 1 {
		return 0, 0, 0, false
	}
	return pid, key, shmid, true
}

// dsmControl reads the control segment's handle from the segment's
// header: int32 magic, pid_t creatorPID, Size totalsize, Size freeoffset,
// then the uint32 handle.
func dsmControl(shmid, pm int) (uint32, bool) {
	b, err := unix.SysvShmAttach(shmid, 0, unix.SHM_RDONLY)
	if err != nil {
		return 0, false
	}
	defer unix.SysvShmDetach(b)
	word := int(unsafe.Sizeof(uintptr(0)))
	off := 8 + 2*word
	if len(b) < off+4 {
		return 0, false
	}
	if int32(binary.NativeEndian.Uint32(b[0:])) != pgShmemMagic || int32(binary.NativeEndian.Uint32(b[4:])) != int32(pm) {
		return 0, false
	}
	return binary.NativeEndian.Uint32(b[off:]), true
}

// posixDSM says whether the cluster kept its dynamic shared memory in
// /dev/shm: the agent passes the type on the command line, which
// postmaster.opts records, and without one initdb's default is posix.
func posixDSM(dataDir string) bool {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.opts"))
	if err != nil {
		return false
	}
	const opt = `"dynamic_shared_memory_type=`
	i := strings.LastIndex(string(b), opt)
	return i < 0 || strings.HasPrefix(string(b[i+len(opt):]), `posix"`)
}

// removePosixDSM removes the control segment h and the segments it lists
// that are still referenced, each only if it is our regular file.
func removePosixDSM(h, uid uint32) []string {
	ctl := fmt.Sprintf(posixDSMTemplate, h)
	if !ownFile(ctl, uid) {
		return nil
	}
	b, err := os.ReadFile(ctl)
	if err != nil || len(b) < 12 || binary.NativeEndian.Uint32(b[0:]) != dsmControlMagic {
		return nil
	}
	// uint32 magic, nitems, maxitems, then the items, aligned for their
	// size_t fields. An item's size changed across versions (24 bytes
	// before PostgreSQL 14, 40 since), and the segment holds exactly
	// maxitems of them, so its size gives the stride.
	nitems, maxitems := binary.NativeEndian.Uint32(b[4:]), binary.NativeEndian.Uint32(b[8:])
	word := int(unsafe.Sizeof(uintptr(0)))
	first := (12 + word - 1) / word * word
	var removed []string
	if maxitems > 0 && nitems <= maxitems && len(b) > first && (len(b)-first)%int(maxitems) == 0 {
		stride := (len(b) - first) / int(maxitems)
		for i := 0; i < int(nitems) && stride >= 8; i++ {
			item := b[first+i*stride:]
			handle, refcnt := binary.NativeEndian.Uint32(item), binary.NativeEndian.Uint32(item[4:])
			seg := fmt.Sprintf(posixDSMTemplate, handle)
			// refcnt 0 is a free slot; odd handles of PostgreSQL 14+ live
			// in the main shared memory and have no file, so the stat finds
			// none.
			if refcnt > 0 && ownFile(seg, uid) && os.Remove(seg) == nil {
				removed = append(removed, seg)
			}
		}
	}
	if os.Remove(ctl) == nil {
		removed = append(removed, ctl)
	}
	return removed
}

func ownFile(path string, uid uint32) bool {
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Uid == uid
}
