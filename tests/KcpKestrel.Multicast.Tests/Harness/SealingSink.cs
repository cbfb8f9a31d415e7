using KcpKestrel.Multicast.Codec;

namespace KcpKestrel.Multicast.Tests.Harness;

/// <summary>A core's sink through a packet codec: what the core sends reaches <paramref name="wire"/> sealed (and with FEC parity).</summary>
internal sealed class SealingSink(MulticastPacketCodec codec, IDatagramSink wire) : IDatagramSink
{
    public void Send(ReadOnlySpan<byte> datagram) => codec.Send(datagram, wire);
}
