using System.Runtime.InteropServices;

namespace KcpKestrel.IoUring;

/// <summary>
/// The three io_uring system calls through libc's <c>syscall</c> (glibc has no wrappers), and the
/// memory mapping calls. The syscall numbers are the same on x86-64 and arm64. Failures return -errno.
/// </summary>
internal static unsafe partial class IoUringSyscalls
{
    private const int ProtRead = 0x1;
    private const int ProtWrite = 0x2;
    private const int MapShared = 0x01;
    private const int MapPopulate = 0x8000;

    // syscall(2) is variadic; on x86-64 and arm64 Linux integer variadic arguments travel in the same
    // registers as fixed ones, so a fixed six-argument signature is a correct call.
    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    /// <summary>True on the architectures whose syscall numbers and layouts this code knows.</summary>
    public static bool ArchitectureKnown =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    public static int Setup(uint entries, IoUringParams* p) =>
        (int)Call(IoUringConstants.SysSetup, (nint)entries, (nint)p, 0, 0, 0, 0);

    public static int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, void* arg, nuint argSize) =>
        (int)Call(IoUringConstants.SysEnter, ringFd, (nint)toSubmit, (nint)minComplete, (nint)flags, (nint)arg, (nint)argSize);

    public static int Register(int ringFd, uint opcode, void* arg, uint count) =>
        (int)Call(IoUringConstants.SysRegister, ringFd, (nint)opcode, (nint)arg, (nint)count, 0, 0);

    /// <summary>Maps a ring region of <paramref name="fd"/>; returns null and sets <paramref name="errno"/> on failure.</summary>
    public static byte* Map(int fd, nuint length, long offset, out int errno)
    {
        var p = mmap(0, length, ProtRead | ProtWrite, MapShared | MapPopulate, fd, offset);
        errno = p == -1 ? Marshal.GetLastPInvokeError() : 0;
        return p == -1 ? null : (byte*)p;
    }

    public static void Unmap(byte* address, nuint length)
    {
        if (address != null)
        {
            _ = munmap((nint)address, length);
        }
    }

    private static long Call(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6)
    {
        var r = syscall(number, a1, a2, a3, a4, a5, a6);
        return r < 0 ? -Marshal.GetLastPInvokeError() : r;
    }
}
