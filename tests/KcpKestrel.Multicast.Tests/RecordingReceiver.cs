namespace KcpKestrel.Multicast.Tests;

/// <summary>Keeps copies of what a subscriber delivers (tests only; allocates).</summary>
internal sealed class RecordingReceiver : IMulticastReceiver
{
    public List<(byte Topic, byte[] Message)> Messages { get; } = [];

    public List<(ushort Publisher, ulong First, ulong Last)> Unrecoverable { get; } = [];

    public int Gone { get; private set; }

    public void OnMessage(byte topic, ReadOnlySpan<byte> message) => Messages.Add((topic, message.ToArray()));

    public void OnUnrecoverable(ushort publisher, uint stream, ulong first, ulong last) => Unrecoverable.Add((publisher, first, last));

    public void OnPublisherGone(ushort publisher, uint stream) => Gone++;
}
