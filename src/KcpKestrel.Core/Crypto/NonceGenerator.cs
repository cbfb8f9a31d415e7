using System.Security.Cryptography;

namespace KcpKestrel.Core.Crypto;

/// <summary>
/// Header nonces from AES-128 in counter mode under a random key, the counter reseeded from the
/// OS CSPRNG every 2^20 blocks (kcp-go's entropy.go does the same job with AES over its own output).
/// A permutation over a counter never repeats a block, so nonces are unique within a key's life;
/// keystream is made 16 blocks at a time so a nonce costs a copy, not a cipher call. No allocation
/// after construction. Not thread-safe.
/// </summary>
internal sealed class NonceGenerator : IDisposable
{
    private const int BufferBlocks = 16;
    private const long ReseedAfterBlocks = 1 << 20;

    private readonly byte[] _buffer = new byte[BufferBlocks * 16];
    private readonly byte[] _counter = new byte[16];
    private readonly BlockEngine _engine;
    private int _offset;
    private long _blocksSinceReseed;

    public NonceGenerator()
    {
        Span<byte> key = stackalloc byte[16];
        RandomNumberGenerator.Fill(key);
        _engine = AesNiEngine.IsSupported ? new AesNiEngine(key) : BouncyCastleBlockEngine.Aes(key);
        CryptographicOperations.ZeroMemory(key);
        RandomNumberGenerator.Fill(_counter);
        _offset = _buffer.Length;
    }

    /// <summary>Fills <paramref name="destination"/> with fresh unpredictable bytes.</summary>
    public void Fill(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_offset == _buffer.Length)
            {
                Refill();
            }

            var n = Math.Min(destination.Length, _buffer.Length - _offset);
            _buffer.AsSpan(_offset, n).CopyTo(destination);
            _offset += n;
            destination = destination[n..];
        }
    }

    private void Refill()
    {
        if (_blocksSinceReseed >= ReseedAfterBlocks)
        {
            RandomNumberGenerator.Fill(_counter);
            _blocksSinceReseed = 0;
        }

        for (var b = 0; b < BufferBlocks; b++)
        {
            for (var i = 0; i < 16 && ++_counter[i] == 0; i++)
            {
            }

            _counter.CopyTo(_buffer, b * 16);
        }

        _engine.EncryptBlocksInPlace(_buffer);
        _blocksSinceReseed += BufferBlocks;
        _offset = 0;
    }

    public void Dispose()
    {
        _engine.Dispose();
        CryptographicOperations.ZeroMemory(_buffer);
    }
}
