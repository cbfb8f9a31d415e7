using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Tests;

/// <summary>Keeps copies of every datagram the core sends (tests only; allocates).</summary>
internal sealed class RecordingSink : IDatagramSink
{
    public List<byte[]> Sent { get; } = [];

    public IEnumerable<byte[]> OfKind(PacketKind kind) => Sent.Where(d => (PacketKind)d[2] == kind);

    public void Send(ReadOnlySpan<byte> datagram) => Sent.Add(datagram.ToArray());

    public static PacketHeader Header(byte[] datagram)
    {
        Assert.Equal(ParseStatus.Ok, PacketHeader.TryRead(datagram, out var header));
        return header;
    }

    public static List<(byte Topic, FrameFlags Flags, byte[] Payload)> Frames(byte[] datagram)
    {
        var frames = new List<(byte, FrameFlags, byte[])>();
        var reader = new FrameReader(datagram.AsSpan(PacketHeader.Size));
        while (reader.TryNext(out var frame, out var end) == ParseStatus.Ok && !end)
        {
            frames.Add((frame.Topic, frame.Flags, frame.Payload.ToArray()));
        }

        return frames;
    }
}
