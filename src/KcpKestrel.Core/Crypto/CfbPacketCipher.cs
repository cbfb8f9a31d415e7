namespace KcpKestrel.Core.Crypto;

/// <summary>kcp-go's block ciphers (aes*, blowfish, twofish, cast5, 3des, tea, xtea, sm4): CFB over the whole datagram.</summary>
internal sealed class CfbPacketCipher : KcpHeaderPacketCipher
{
    private readonly BlockEngine _engine;

    public CfbPacketCipher(string name, BlockEngine engine)
    {
        Name = name;
        _engine = engine;
    }

    public override string Name { get; }

    protected override void Encrypt(Span<byte> datagram) => _engine.CfbEncrypt(datagram);

    protected override void Decrypt(ReadOnlySpan<byte> received, Span<byte> part, int offset)
        => _engine.CfbDecrypt(offset == 0 ? default : received[(offset - _engine.BlockSize)..offset], part);

    protected override int ResumePoint(int length)
    {
        var bs = _engine.BlockSize;
        return (length + bs - 1) / bs * bs;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _engine.Dispose();
        }

        base.Dispose(disposing);
    }
}
