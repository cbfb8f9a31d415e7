using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace KcpKestrel.Core.Crypto;

/// <summary>A BouncyCastle block cipher (span API, no allocation per block) for the ciphers .NET lacks.</summary>
internal sealed class BouncyCastleBlockEngine : BlockEngine
{
    private readonly IBlockCipher _cipher;

    // The array API: some engines' span overloads (Cast5's) copy to fresh arrays per block.
    private readonly byte[] _in = new byte[16];
    private readonly byte[] _out = new byte[16];

    public BouncyCastleBlockEngine(IBlockCipher cipher, ReadOnlySpan<byte> key)
    {
        _cipher = cipher;
        // KeyParameter rather than DesEdeParameters: Go accepts any 3DES key, weak or not.
        _cipher.Init(true, new KeyParameter(key));
        BlockSize = _cipher.GetBlockSize();
    }

    public override int BlockSize { get; }

    public override void EncryptBlock(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var bs = BlockSize;
        source[..bs].CopyTo(_in);
        _cipher.ProcessBlock(_in, 0, _out, 0);
        _out.AsSpan(0, bs).CopyTo(destination);
    }

    public static BouncyCastleBlockEngine Aes(ReadOnlySpan<byte> key) => new(AesUtilities.CreateEngine(), key);

    public static BouncyCastleBlockEngine Blowfish(ReadOnlySpan<byte> key) => new(new BlowfishEngine(), key);

    public static BouncyCastleBlockEngine Twofish(ReadOnlySpan<byte> key) => new(new TwofishEngine(), key);

    public static BouncyCastleBlockEngine Cast5(ReadOnlySpan<byte> key) => new(new Cast5Engine(), key);

    public static BouncyCastleBlockEngine TripleDes(ReadOnlySpan<byte> key) => new(new DesEdeEngine(), key);

    public static BouncyCastleBlockEngine Xtea(ReadOnlySpan<byte> key) => new(new XteaEngine(), key);

    public static BouncyCastleBlockEngine Sm4(ReadOnlySpan<byte> key) => new(new SM4Engine(), key);
}
