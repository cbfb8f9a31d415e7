using System.Runtime.InteropServices;

namespace KcpKestrel.Native;

/// <summary>Linux <c>struct msghdr</c> (64-bit layout), for recvmsg/sendmsg and their io_uring opcodes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLength;
    public IoVec* Iov;
    public nuint IovLength;
    public void* Control;
    public nuint ControlLength;
    public int Flags;
}
