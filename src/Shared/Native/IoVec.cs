using System.Runtime.InteropServices;

namespace KcpKestrel.Native;

/// <summary>Linux <c>struct iovec</c> (64-bit layout), shared by the epoll and io_uring paths of both transports.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}
