using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.Kcp.Io;

/// <summary>
/// A fixed batch of datagram slots in native memory (buffers, iovecs, addresses and mmsghdrs
/// allocated once and never moved), handed to recvmmsg/sendmmsg as they are.
/// </summary>
internal sealed unsafe class MessageBatch : IDisposable
{
    public const int AddressSize = 128; // sizeof(struct sockaddr_storage)

    private readonly byte* _buffers;
    private readonly byte* _addresses;
    private readonly LinuxNative.IoVec* _iovecs;
    private readonly LinuxNative.MMsgHdr* _headers;
    private bool _disposed;

    public MessageBatch(int capacity, int slotSize)
    {
        Capacity = capacity;
        SlotSize = slotSize;
        _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)(capacity * slotSize), 64);
        _addresses = (byte*)NativeMemory.AllocZeroed((nuint)(capacity * AddressSize));
        _iovecs = (LinuxNative.IoVec*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(LinuxNative.IoVec)));
        _headers = (LinuxNative.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(LinuxNative.MMsgHdr)));
        for (var i = 0; i < capacity; i++)
        {
            _iovecs[i].Base = _buffers + ((nint)i * slotSize);
            _iovecs[i].Length = (nuint)slotSize;
            _headers[i].Header.Iov = &_iovecs[i];
            _headers[i].Header.IovLength = 1;
        }
    }

    public int Capacity { get; }

    public int SlotSize { get; }

    /// <summary>Slots filled (send) or received (receive).</summary>
    public int Count { get; set; }

    public LinuxNative.MMsgHdr* Headers => _headers;

    public Span<byte> Slot(int index) => new(_buffers + ((nint)index * SlotSize), SlotSize);

    public Span<byte> Address(int index) => new(_addresses + (index * AddressSize), AddressSize);

    public int ReceivedLength(int index) => (int)_headers[index].Length;

    public int AddressLength(int index) => (int)_headers[index].Header.NameLength;

    public bool IsTruncated(int index) => (_headers[index].Header.Flags & LinuxNative.MSG_TRUNC) != 0;

    /// <summary>Arms every slot to receive a full-size datagram and its sender's address.</summary>
    public void PrepareReceive()
    {
        for (var i = 0; i < Capacity; i++)
        {
            ref var h = ref _headers[i];
            h.Header.Name = _addresses + (i * AddressSize);
            h.Header.NameLength = AddressSize;
            h.Header.Flags = 0;
            h.Length = 0;
            _iovecs[i].Length = (nuint)SlotSize;
        }
    }

    /// <summary>Sets slot <paramref name="index"/> to send <paramref name="length"/> bytes, to an address or (connected socket) to none.</summary>
    public void PrepareSend(int index, int length, ReadOnlySpan<byte> address)
    {
        ref var h = ref _headers[index];
        _iovecs[index].Length = (nuint)length;
        if (address.IsEmpty)
        {
            h.Header.Name = null;
            h.Header.NameLength = 0;
        }
        else
        {
            var target = _addresses + (index * AddressSize);
            address.CopyTo(new Span<byte>(target, AddressSize));
            h.Header.Name = target;
            h.Header.NameLength = (uint)address.Length;
        }

        h.Header.Flags = 0;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NativeMemory.AlignedFree(_buffers);
        NativeMemory.Free(_addresses);
        NativeMemory.Free(_iovecs);
        NativeMemory.Free(_headers);
    }
}
