namespace KcpKestrel.Core.Crypto;

/// <summary>kcptun's "null": no crypto header at all, the datagram is the payload (kcp-go with a nil BlockCrypt).</summary>
internal sealed class NullPacketCipher : PacketCipher
{
    public override string Name => "null";

    public override int HeaderSize => 0;

    protected override void SealCore(Span<byte> packet, int payloadLength, ReadOnlySpan<byte> nonce)
    {
    }

    protected override CipherResult OpenCore(Span<byte> datagram, ReplayWindow? replayWindow, out int payloadOffset, out int payloadLength)
    {
        payloadOffset = 0;
        payloadLength = datagram.Length;
        return CipherResult.Ok;
    }
}
