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

    protected override void Decrypt(Span<byte> datagram) => _engine.CfbDecrypt(datagram);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _engine.Dispose();
        }

        base.Dispose(disposing);
    }
}
