using KcpKestrel.Multicast.Codec;

namespace KcpKestrel.Multicast.Tests.Harness;

/// <summary>
/// Packet codecs of group members on one <see cref="ManualClock"/>: each <see cref="Seal"/> records the
/// wire datagrams a member sends, <see cref="Deliver"/> hands one to a member and records what its codec
/// lets through to the core. Tests only; allocates.
/// </summary>
internal sealed class CodecPair
{
    public const string Key = "multicast test key";

    public ManualClock Clock { get; } = new();

    public static MulticastOptions Options(ushort node, string crypt = "aes-128-gcm", int dataShards = 0, int parityShards = 0, string key = Key) =>
        new() { NodeId = node, Crypt = crypt, Key = crypt == "none" ? null : key, DataShards = dataShards, ParityShards = parityShards };

    public MulticastPacketCodec Codec(MulticastOptions options) => new(options, clock: Clock);

    /// <summary>What <paramref name="codec"/> puts on the wire for <paramref name="packet"/>.</summary>
    public static List<byte[]> Seal(MulticastPacketCodec codec, ReadOnlySpan<byte> packet)
    {
        var wire = new RecordingSink();
        codec.Send(packet, wire);
        return wire.Sent;
    }

    /// <summary>What <paramref name="codec"/> hands the core for one wire datagram (a copy is opened: the original stays replayable).</summary>
    public static List<byte[]> Deliver(MulticastPacketCodec codec, byte[] datagram, long now = 0)
    {
        var core = new RecordingSink();
        codec.Receive(datagram.ToArray(), now, core);
        return core.Sent;
    }
}
