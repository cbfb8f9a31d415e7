using System.Runtime.InteropServices;
using KcpKestrel.Native;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// A fixed batch of datagram slots in native memory (buffers, iovecs, addresses and mmsghdrs
/// allocated once and never moved), handed to recvmmsg/sendmmsg as they are.
/// </summary>
internal sealed unsafe class MessageBatch : IDisposable
{
    public const int AddressSize = 128; // sizeof(struct sockaddr_storage)

    private readonly byte* _buffers;
    private readonly byte* _addresses;
    private readonly IoVec* _iovecs;
    private readonly LinuxNative.MMsgHdr* _headers;
    private readonly byte* _controls;
    private readonly int _controlSize;
    private readonly int[] _lengths;
    private readonly bool[] _sameDestination;
    private bool _disposed;

    /// <param name="capacity">Slots.</param>
    /// <param name="slotSize">Bytes per slot.</param>
    /// <param name="controlSize">Bytes of ancillary data per slot on receive (the UDP_GRO and SO_RXQ_OVFL cmsgs); 0 for none.</param>
    public MessageBatch(int capacity, int slotSize, int controlSize = 0)
    {
        Capacity = capacity;
        SlotSize = slotSize;
        _controlSize = controlSize;
        _controls = controlSize > 0 ? (byte*)NativeMemory.AllocZeroed((nuint)(capacity * controlSize)) : null;
        _lengths = new int[capacity];
        _sameDestination = new bool[capacity];
        _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)(capacity * slotSize), 64);
        _addresses = (byte*)NativeMemory.AllocZeroed((nuint)(capacity * AddressSize));
        _iovecs = (IoVec*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(IoVec)));
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

    /// <summary>One iovec per slot, consecutive: a GSO message takes a run of them as its scatter list.</summary>
    public IoVec* IoVecs => _iovecs;

    /// <summary>Lengths of the queued sends.</summary>
    public ReadOnlySpan<int> SendLengths => _lengths.AsSpan(0, Count);

    /// <summary>Per queued send: true when it goes to the same address as the one before it.</summary>
    public ReadOnlySpan<bool> SameDestinationAsPrevious => _sameDestination.AsSpan(0, Count);

    public Span<byte> Slot(int index) => new(_buffers + ((nint)index * SlotSize), SlotSize);

    public Span<byte> Address(int index) => new(_addresses + (index * AddressSize), AddressSize);

    public int ReceivedLength(int index) => (int)_headers[index].Length;

    public int AddressLength(int index) => (int)_headers[index].Header.NameLength;

    public bool IsTruncated(int index) => (_headers[index].Header.Flags & LinuxNative.MSG_TRUNC) != 0;

    /// <summary>The UDP_GRO segment size the kernel reported for received slot <paramref name="index"/>; 0 when it coalesced nothing.</summary>
    public int GroSegmentSize(int index) => UdpSegmentation.ReadGroSegmentSize(ReceivedControl(index));

    /// <summary>The ancillary data received with slot <paramref name="index"/> (GRO segment size, drop count); empty without room for any.</summary>
    public ReadOnlySpan<byte> ReceivedControl(int index)
    {
        ref var h = ref _headers[index];
        if (_controlSize == 0 || h.Header.Control == null)
        {
            return default;
        }

        return new ReadOnlySpan<byte>(h.Header.Control, (int)Math.Min(h.Header.ControlLength, (nuint)_controlSize));
    }

    /// <summary>True when the kernel had more ancillary data than room for it (the segment size may be missing).</summary>
    public bool IsControlTruncated(int index) => (_headers[index].Header.Flags & LinuxNative.MSG_CTRUNC) != 0;

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
            if (_controlSize > 0)
            {
                h.Header.Control = _controls + (i * _controlSize);
                h.Header.ControlLength = (nuint)_controlSize;
            }
        }
    }

    /// <summary>Sets slot <paramref name="index"/> to send <paramref name="length"/> bytes, to an address or (connected socket) to none.</summary>
    public void PrepareSend(int index, int length, ReadOnlySpan<byte> address)
    {
        ref var h = ref _headers[index];
        _iovecs[index].Length = (nuint)length;
        _lengths[index] = length;
        if (address.IsEmpty)
        {
            h.Header.Name = null;
            h.Header.NameLength = 0;
            _sameDestination[index] = index > 0 && _headers[index - 1].Header.NameLength == 0;
        }
        else
        {
            var target = _addresses + (index * AddressSize);
            address.CopyTo(new Span<byte>(target, AddressSize));
            h.Header.Name = target;
            h.Header.NameLength = (uint)address.Length;
            _sameDestination[index] = index > 0
                && _headers[index - 1].Header.NameLength == (uint)address.Length
                && address.SequenceEqual(new ReadOnlySpan<byte>(_addresses + ((index - 1) * AddressSize), address.Length));
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
        if (_controls != null)
        {
            NativeMemory.Free(_controls);
        }
    }
}
