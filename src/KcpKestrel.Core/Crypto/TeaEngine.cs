using System.Buffers.Binary;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// TEA with a configurable round count: kcp-go uses Go's <c>tea.NewCipherWithRounds(key, 16)</c>
/// (8 cycles), where BouncyCastle's TeaEngine is fixed at the standard 32 cycles.
/// </summary>
internal sealed class TeaEngine : BlockEngine
{
    private const uint Delta = 0x9E3779B9;
    private readonly uint _k0, _k1, _k2, _k3;
    private readonly int _cycles;

    public TeaEngine(ReadOnlySpan<byte> key, int rounds = 16)
    {
        if (key.Length != 16)
        {
            throw new ArgumentException("TEA needs a 16-byte key.", nameof(key));
        }

        if (rounds <= 0 || (rounds & 1) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rounds), "TEA needs a positive, even number of rounds.");
        }

        _k0 = BinaryPrimitives.ReadUInt32BigEndian(key);
        _k1 = BinaryPrimitives.ReadUInt32BigEndian(key[4..]);
        _k2 = BinaryPrimitives.ReadUInt32BigEndian(key[8..]);
        _k3 = BinaryPrimitives.ReadUInt32BigEndian(key[12..]);
        _cycles = rounds / 2;
    }

    public override int BlockSize => 8;

    public override void EncryptBlock(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var v0 = BinaryPrimitives.ReadUInt32BigEndian(source);
        var v1 = BinaryPrimitives.ReadUInt32BigEndian(source[4..]);
        uint sum = 0;
        for (var i = 0; i < _cycles; i++)
        {
            sum += Delta;
            v0 += ((v1 << 4) + _k0) ^ (v1 + sum) ^ ((v1 >> 5) + _k1);
            v1 += ((v0 << 4) + _k2) ^ (v0 + sum) ^ ((v0 >> 5) + _k3);
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, v0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], v1);
    }
}
