namespace KcpKestrel.Core.Crypto;

/// <summary>kcptun's "none": the nonce + crc32 header is there (kcp-go's noneBlockCrypt), nothing is encrypted.</summary>
internal sealed class NonePacketCipher : KcpHeaderPacketCipher
{
    public override string Name => "none";

    protected override void Encrypt(Span<byte> datagram)
    {
    }

    protected override void Decrypt(ReadOnlySpan<byte> received, Span<byte> part, int offset)
    {
    }
}
