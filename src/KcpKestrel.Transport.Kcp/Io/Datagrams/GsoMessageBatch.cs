using System.Runtime.InteropServices;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// The send batch regrouped for UDP GSO: one mmsghdr per run of same-destination, same-length
/// datagrams, whose scatter list is the run's own slot iovecs (no copy: the kernel reads the slots
/// in turn and cuts the concatenation every segment-size bytes) and whose UDP_SEGMENT cmsg carries
/// that size. Runs of one go without the cmsg, exactly as the plain path would send them.
/// </summary>
internal sealed unsafe class GsoMessageBatch : IDisposable
{
    private readonly LinuxNative.MMsgHdr* _headers;
    private readonly byte* _controls;
    private readonly int[] _firstSlot;
    private readonly int[] _slotCount;
    private bool _disposed;

    public GsoMessageBatch(int capacity)
    {
        Capacity = capacity;
        _headers = (LinuxNative.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(LinuxNative.MMsgHdr)));
        _controls = (byte*)NativeMemory.AllocZeroed((nuint)(capacity * UdpSegmentation.SegmentCmsgSpace));
        _firstSlot = new int[capacity];
        _slotCount = new int[capacity];
    }

    public int Capacity { get; }

    /// <summary>Messages built by the last <see cref="Build"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Messages of the last build that carry more than one datagram.</summary>
    public int SegmentedCount { get; private set; }

    public LinuxNative.MMsgHdr* Headers => _headers;

    /// <summary>First slot of message <paramref name="message"/> in the send batch.</summary>
    public int FirstSlot(int message) => _firstSlot[message];

    /// <summary>Datagrams carried by message <paramref name="message"/>.</summary>
    public int SlotCount(int message) => _slotCount[message];

    /// <summary>Groups the queued sends of <paramref name="slots"/> into messages.</summary>
    public void Build(MessageBatch slots)
    {
        var lengths = slots.SendLengths;
        var same = slots.SameDestinationAsPrevious;
        var messages = 0;
        var segmented = 0;
        for (var start = 0; start < lengths.Length; messages++)
        {
            var run = UdpSegmentation.RunLength(lengths, same, start);
            ref var source = ref slots.Headers[start].Header;
            ref var h = ref _headers[messages];
            h.Header.Name = source.Name;
            h.Header.NameLength = source.NameLength;
            h.Header.Iov = slots.IoVecs + start;
            h.Header.IovLength = (nuint)run;
            h.Header.Flags = 0;
            h.Length = 0;
            if (run > 1)
            {
                var control = _controls + (messages * UdpSegmentation.SegmentCmsgSpace);
                UdpSegmentation.WriteSegmentCmsg(new Span<byte>(control, UdpSegmentation.SegmentCmsgSpace), (ushort)lengths[start]);
                h.Header.Control = control;
                h.Header.ControlLength = UdpSegmentation.SegmentCmsgSpace;
                segmented++;
            }
            else
            {
                h.Header.Control = null;
                h.Header.ControlLength = 0;
            }

            _firstSlot[messages] = start;
            _slotCount[messages] = run;
            start += run;
        }

        Count = messages;
        SegmentedCount = segmented;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NativeMemory.Free(_headers);
        NativeMemory.Free(_controls);
    }
}
